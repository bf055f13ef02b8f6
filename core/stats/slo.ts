import { formatMs, parseDurationMs } from '../duration.ts'
import { InferbenchError } from '../errors.ts'
import type { SloSpec } from '../tree.ts'
import type { LatencySummary } from './histogram.ts'

export type SloMetric = 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'mean' | 'throughput' | 'errorRate'

/** An SLO with every threshold in canonical units: latency in ms, throughput in req/s, error rate as a fraction. */
export type ResolvedSlo = Partial<Record<SloMetric, number>>

export interface SloVerdict {
  metric: SloMetric
  /** '<=' for latency and error rate, '>=' for throughput. */
  comparison: '<=' | '>='
  threshold: number
  actual: number
  unit: 'ms' | 'req/s' | 'fraction'
  pass: boolean
  /**
   * A percentile resting on fewer than TAIL_SAMPLES answers beyond it is close to the maximum,
   * not a percentile: it cannot satisfy the SLO whatever its value (pass is false), and says how
   * many answers it needs.
   */
  thinTail?: { beyond: number; needed: number }
}

/** A percentile is judged only when at least this many answers lie beyond it. */
export const TAIL_SAMPLES = 10

const PERCENTILE_OF: Partial<Record<SloMetric, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 }

/** Answers needed for `TAIL_SAMPLES` of them to lie beyond percentile `q` (0..1). */
export function answersToResolve(q: number): number {
  return Math.ceil(TAIL_SAMPLES / (1 - q) - 1e-9)
}

const LATENCY_METRICS = ['p50', 'p90', 'p95', 'p99', 'p999', 'mean'] as const

/** Turns '50ms', '1%' and plain numbers into canonical units; `where` names the bench for errors. */
export function resolveSlo(spec: SloSpec | undefined, where: string): ResolvedSlo {
  const resolved: ResolvedSlo = {}
  if (!spec) return resolved
  for (const [key, value] of Object.entries(spec)) {
    if (value === undefined) continue
    if ((LATENCY_METRICS as readonly string[]).includes(key)) {
      const ms = parseDurationMs(value as string | number)
      if (ms === undefined) throw sloError(where, key, `a duration like '50ms' or a number of milliseconds`, value)
      resolved[key as SloMetric] = ms
    } else if (key === 'throughput') {
      if (typeof value !== 'number' || !(value > 0)) throw sloError(where, key, 'a positive number of requests per second', value)
      resolved.throughput = value
    } else if (key === 'errorRate') {
      const fraction = typeof value === 'string' && value.trim().endsWith('%') ? Number(value.trim().slice(0, -1)) / 100 : value
      if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
        throw sloError(where, key, `a fraction between 0 and 1 or a percentage like '1%'`, value)
      }
      resolved.errorRate = fraction
    } else {
      throw sloError(where, key, `one of ${[...LATENCY_METRICS, 'throughput', 'errorRate'].join(', ')}`, value, true)
    }
  }
  return resolved
}

function sloError(where: string, key: string, expected: string, value: unknown, unknownKey = false): InferbenchError {
  const what = unknownKey ? `unknown SLO '${key}'` : `slo.${key}: received ${JSON.stringify(value)}`
  return new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: ${what}; expected ${expected}`)
}

export function evaluateSlo(
  slo: ResolvedSlo,
  figures: { latency: LatencySummary; requestsPerSec: number; errorRate: number; answered: number },
): SloVerdict[] {
  const verdicts: SloVerdict[] = []
  for (const metric of LATENCY_METRICS) {
    const threshold = slo[metric]
    if (threshold === undefined) continue
    const actual = figures.latency[metric]
    const q = PERCENTILE_OF[metric]
    const beyond = q === undefined ? Infinity : figures.answered * (1 - q)
    if (q !== undefined && beyond < TAIL_SAMPLES) {
      verdicts.push({ metric, comparison: '<=', threshold, actual, unit: 'ms', pass: false, thinTail: { beyond: Math.round(beyond * 100) / 100, needed: answersToResolve(q) } })
    } else {
      verdicts.push({ metric, comparison: '<=', threshold, actual, unit: 'ms', pass: actual <= threshold })
    }
  }
  if (slo.throughput !== undefined) {
    const actual = figures.requestsPerSec
    verdicts.push({ metric: 'throughput', comparison: '>=', threshold: slo.throughput, actual, unit: 'req/s', pass: actual >= slo.throughput })
  }
  if (slo.errorRate !== undefined) {
    const actual = figures.errorRate
    verdicts.push({ metric: 'errorRate', comparison: '<=', threshold: slo.errorRate, actual, unit: 'fraction', pass: actual <= slo.errorRate })
  }
  return verdicts
}

export function describeVerdict(v: SloVerdict): string {
  const fmt = (x: number) => (v.unit === 'fraction' ? `${(x * 100).toFixed(2)}%` : v.unit === 'ms' ? formatMs(x) : `${x.toFixed(2)} req/s`)
  if (v.thinTail) {
    return `${v.metric} ${fmt(v.actual)} cannot be judged against ${fmt(v.threshold)}: it rests on ${v.thinTail.beyond.toFixed(1)} answers beyond it; `
      + `${v.thinTail.needed} answered requests resolve ${v.metric}`
  }
  return `${v.metric} ${fmt(v.actual)} ${v.pass ? '' : 'not '}${v.comparison} ${fmt(v.threshold)}`
}
