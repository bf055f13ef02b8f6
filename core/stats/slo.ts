import { parseDurationMs } from '../duration.ts'
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
  figures: { latency: LatencySummary; requestsPerSec: number; errorRate: number },
): SloVerdict[] {
  const verdicts: SloVerdict[] = []
  for (const metric of LATENCY_METRICS) {
    const threshold = slo[metric]
    if (threshold === undefined) continue
    const actual = figures.latency[metric]
    verdicts.push({ metric, comparison: '<=', threshold, actual, unit: 'ms', pass: actual <= threshold })
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
  const fmt = (x: number) => (v.unit === 'fraction' ? `${(x * 100).toFixed(2)}%` : `${x.toFixed(2)}${v.unit === 'ms' ? 'ms' : ' req/s'}`)
  return `${v.metric} ${fmt(v.actual)} ${v.pass ? '' : 'not '}${v.comparison} ${fmt(v.threshold)}`
}
