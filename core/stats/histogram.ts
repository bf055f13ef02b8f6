import * as hdr from 'hdr-histogram-js'

export type LatencyHistogram = hdr.Histogram

/** Latency in milliseconds, from a histogram of microseconds. */
export interface LatencySummary {
  min: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  max: number
  mean: number
  stdev: number
}

/**
 * Microsecond resolution, 3 significant digits (0.1% error), auto-resizing: a long run costs the
 * same memory as a short one, and histograms from shards add up exactly (percentiles don't).
 */
export function createLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  })
}

export function summarizeHistogram(h: LatencyHistogram): LatencySummary {
  if (h.totalCount === 0) return { min: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0, mean: 0, stdev: 0 }
  const ms = (us: number) => us / 1000
  // A percentile is reported as its bucket's upper edge, which can lie past the exact maximum.
  const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), h.maxValue))
  return {
    min: ms(h.minNonZeroValue),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: ms(h.maxValue),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
  }
}

/** HdrHistogram's standard compressed base64 form (readable by every HdrHistogram port). */
export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h)
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false) as LatencyHistogram
}
