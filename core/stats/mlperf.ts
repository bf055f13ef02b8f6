import type { LatencyHistogram } from './histogram.ts'
import { earlyStoppingRank, serverEarlyStopping } from './early-stopping.ts'
import type { MlperfScenario } from '../workload.ts'

/** What an MLPerf scenario reports, as LoadGen's summary would (loadgen/results.cc). */
export interface MlperfResult {
  scenario: MlperfScenario['name']
  /** SingleStream: 90th-percentile latency; MultiStream: 99th-percentile query latency; Server: answered queries/s; Offline: samples/s. */
  metric: { name: string; value: number; unit: 'ms' | 'queries/s' | 'samples/s' }
  /** LoadGen's early stopping: the percentile it can claim at 99% confidence, or whether the Server run may stop. */
  earlyStopping?: { passed: boolean; estimateMs?: number; minQueries?: number; neededQueries?: number; detail: string }
  /** Server: the 99th percentile against the latency bound. */
  latencyBound?: { boundMs: number; percentileMs: number; over: number; met: boolean }
  /** LoadGen's minimum run length and counts (mlperf.conf), against this run's. */
  minimums: Array<{ rule: string; required: number; actual: number; met: boolean }>
  /** Every LoadGen rule met: a valid result. A run shorter than LoadGen's 600 s is a performance estimate. */
  valid: boolean
}

/** The latency (ms) of the query at `rank` (1 = fastest) from the histogram. */
function atRank(h: LatencyHistogram, rank: number): number {
  return h.getValueAtPercentile(((rank - 0.5) / h.totalCount) * 100) / 1000
}

/** Queries slower than `boundMs`, by bisecting ranks over the histogram. */
function countOver(h: LatencyHistogram, boundMs: number): number {
  let low = 0
  let high = h.totalCount
  while (low < high) {
    const r = Math.ceil((low + high) / 2)
    if (atRank(h, r) <= boundMs) low = r
    else high = r - 1
  }
  return h.totalCount - low
}

/** Judges a finished measurement by its scenario's rules. `histogram` holds one latency per query (µs). */
export function judgeScenario(s: MlperfScenario, h: LatencyHistogram, run: { durationMs: number; batch: number }): MlperfResult {
  const n = h.totalCount
  const pct = Math.round(s.percentile * 100)
  const minimums: MlperfResult['minimums'] = [{ rule: 'min_duration (s)', required: s.minDurationMs / 1000, actual: run.durationMs / 1000, met: run.durationMs >= s.minDurationMs }]
  if (s.minQueries) minimums.push({ rule: 'min_query_count', required: s.minQueries, actual: n, met: n >= s.minQueries })
  const samples = n * run.batch
  if (s.minSamples) minimums.push({ rule: 'min_sample_count', required: s.minSamples, actual: samples, met: samples >= s.minSamples })
  const percentileMs = n > 0 ? atRank(h, Math.max(1, Math.ceil(s.percentile * n))) : 0
  let result: Omit<MlperfResult, 'valid' | 'minimums'>
  if (s.name === 'Offline') {
    result = { scenario: s.name, metric: { name: 'samples per second', value: run.durationMs > 0 ? samples / (run.durationMs / 1000) : 0, unit: 'samples/s' } }
  } else if (s.name === 'Server') {
    const boundMs = s.latencyBoundMs!
    const over = countOver(h, boundMs)
    const stop = serverEarlyStopping(n, over, s.percentile)
    result = {
      scenario: s.name,
      metric: { name: 'queries per second', value: run.durationMs > 0 ? n / (run.durationMs / 1000) : 0, unit: 'queries/s' },
      latencyBound: { boundMs, percentileMs, over, met: percentileMs <= boundMs },
      earlyStopping: {
        passed: stop.passed, neededQueries: stop.needed,
        detail: stop.passed ? `${n} queries with ${over} over ${boundMs} ms: enough` : `${n} queries with ${over} over ${boundMs} ms: needs at least ${stop.needed - n} more, each under the bound`,
      },
    }
  } else {
    const estimate = earlyStoppingRank(n, s.percentile)
    const estimateMs = estimate.rank !== undefined ? atRank(h, estimate.rank) : undefined
    result = {
      scenario: s.name,
      metric: { name: `${pct}th percentile ${s.name === 'MultiStream' ? 'query ' : ''}latency`, value: percentileMs, unit: 'ms' },
      earlyStopping: {
        passed: estimateMs !== undefined, minQueries: estimate.minQueries, ...(estimateMs !== undefined ? { estimateMs } : {}),
        detail: estimateMs !== undefined
          ? `${pct}th percentile estimate ${estimateMs.toFixed(3)} ms (discarding the ${estimate.discarded} slowest of ${n})`
          : `only ${n} queries; early stopping needs at least ${estimate.minQueries}`,
      },
    }
  }
  const valid = minimums.every((m) => m.met) && (result.earlyStopping?.passed ?? true) && (result.latencyBound?.met ?? true)
  return { ...result, minimums, valid }
}
