import { formatMs, parseDurationMs } from '../../core/duration.ts'
import { InferbenchError } from '../../core/errors.ts'
import type { Fingerprint } from '../../core/fingerprint.ts'
import type { JobReport, Measurement } from '../../core/report.ts'

export type ConstraintMetric = 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'mean' | 'throughput'
export interface Constraint {
  metric: ConstraintMetric
  op: '<' | '<=' | '>' | '>='
  /** ms for latency, samples per second for throughput. */
  value: number
}
export type Objective = 'throughput' | 'cost' | 'energy'

const PERCENTILE_TAIL: Partial<Record<ConstraintMetric, number>> = { p50: 0.5, p90: 0.1, p95: 0.05, p99: 0.01, p999: 0.001 }
/** A percentile resting on fewer answers beyond it cannot be judged (the SLO verdict's own rule). */
const TAIL_ANSWERS = 10

/** `p99<50ms`, `p95<=20ms,throughput>=500` (samples per second). */
export function parseSlo(text: string): Constraint[] {
  const parts = text.split(/,|\band\b|&&/).map((p) => p.trim()).filter(Boolean)
  if (parts.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `--slo: expected constraints like 'p99<50ms' or 'p95<=20ms,throughput>=500', received '${text}'`)
  return parts.map((part) => {
    const m = /^(p50|p90|p95|p99|p999|mean|throughput)\s*(<=|>=|<|>)\s*(.+)$/.exec(part)
    if (!m) throw new InferbenchError('INFERBENCH_USAGE', `--slo: '${part}' is not <metric><op><value>; metrics p50, p90, p95, p99, p999, mean (latency, e.g. p99<50ms) and throughput (samples/s, e.g. throughput>=500)`)
    const metric = m[1] as ConstraintMetric
    const value = metric === 'throughput' ? Number(m[3]) : parseDurationMs(m[3]!.trim())
    if (value === undefined || !Number.isFinite(value) || value <= 0) {
      throw new InferbenchError('INFERBENCH_USAGE', `--slo: '${part}': expected ${metric === 'throughput' ? 'a number of samples per second' : "a duration like '50ms'"} after ${m[2]}`)
    }
    if ((metric === 'throughput') !== (m[2]!.startsWith('>'))) {
      throw new InferbenchError('INFERBENCH_USAGE', `--slo: '${part}': ${metric === 'throughput' ? 'throughput is a floor (throughput>=N)' : 'latency is a ceiling (e.g. p99<50ms)'}`)
    }
    return { metric, op: m[2] as Constraint['op'], value }
  })
}

export interface Candidate {
  job: JobReport & Measurement
  fingerprint: Fingerprint
  /** Stored runs of this configuration, and their throughputs (req/s), for the spread. */
  runs: number
  throughputs: number[]
}

export interface Ranked {
  candidate: Candidate
  /** The objective's figure: samples/s, USD per million requests, or joules per sample. */
  score: number
  /** How far from the SLO, worst constraint: actual/limit for latency, limit/actual for throughput (≤ 1 meets it). */
  worstRatio: number
  confidence: 'high' | 'medium' | 'low'
  why: string
}

export interface Recommendation {
  meets: Ranked[]
  /** When nothing meets the SLO: the configurations closest to it. */
  closest: Ranked[]
  /** Configurations whose figures cannot judge a constraint (too few answers for the percentile). */
  unjudged: number
  /** Configurations whose latest measurement was invalid (too short, too few answers). */
  invalid: number
  /** Configurations that meet the SLO but lack the objective's figure (no cost or energy measured). */
  withoutObjective: number
}

/** The top configurations meeting every constraint, best by the objective first. */
export function recommend(candidates: readonly Candidate[], constraints: readonly Constraint[], objective: Objective, top = 3): Recommendation {
  let unjudged = 0
  let invalid = 0
  let withoutObjective = 0
  const meets: Ranked[] = []
  const rest: Ranked[] = []
  for (const candidate of candidates) {
    const job = candidate.job
    if (!job.latency || !job.throughput || !job.requests) continue
    // Figures the run itself judged unmeasurable (too short, too few answers, sends held back) decide nothing.
    if (job.validity?.valid === false) {
      invalid++
      continue
    }
    if (constraints.some((c) => PERCENTILE_TAIL[c.metric] !== undefined && job.requests.ok * PERCENTILE_TAIL[c.metric]! < TAIL_ANSWERS)) {
      unjudged++
      continue
    }
    const worstRatio = Math.max(...constraints.map((c) => ratio(job, c)))
    const passes = constraints.every((c) => satisfies(job, c))
    const score = objectiveScore(job, objective)
    const ranked = { candidate, score: score ?? Number.NaN, worstRatio, confidence: confidence(candidate), why: describe(candidate, constraints) }
    if (!passes) rest.push(ranked)
    else if (score === undefined) withoutObjective++
    else meets.push(ranked)
  }
  meets.sort((a, b) => (objective === 'throughput' ? b.score - a.score : a.score - b.score) || a.worstRatio - b.worstRatio)
  rest.sort((a, b) => a.worstRatio - b.worstRatio)
  return { meets: meets.slice(0, top), closest: meets.length ? [] : rest.slice(0, top), unjudged, invalid, withoutObjective }
}

function value(job: Measurement, metric: ConstraintMetric): number {
  return metric === 'throughput' ? job.throughput.samplesPerSec : job.latency[metric]
}

function satisfies(job: Measurement, c: Constraint): boolean {
  const v = value(job, c.metric)
  return c.op === '<' ? v < c.value : c.op === '<=' ? v <= c.value : c.op === '>' ? v > c.value : v >= c.value
}

function ratio(job: Measurement, c: Constraint): number {
  const v = value(job, c.metric)
  return c.metric === 'throughput' ? c.value / Math.max(v, 1e-12) : v / c.value
}

function objectiveScore(job: Measurement, objective: Objective): number | undefined {
  if (objective === 'throughput') return job.throughput.samplesPerSec
  if (objective === 'cost') return job.cost?.cloud?.perMillionRequestsUsd === undefined ? undefined : job.cost.cloud.perMillionRequestsUsd / job.batch
  return job.cost?.energy?.perSampleJ
}

/**
 * high: a stable, valid measurement of a configuration measured 3+ times whose throughput moved
 * under 10% between runs; medium: stable and valid; low: otherwise.
 */
function confidence(c: Candidate): Ranked['confidence'] {
  const stable = c.job.stability?.stable === true && c.job.validity?.valid !== false
  if (!stable) return 'low'
  if (c.throughputs.length >= 3) {
    const mean = c.throughputs.reduce((a, b) => a + b, 0) / c.throughputs.length
    const sd = Math.sqrt(c.throughputs.reduce((a, b) => a + (b - mean) ** 2, 0) / (c.throughputs.length - 1))
    if (mean > 0 && sd / mean < 0.1) return 'high'
  }
  return 'medium'
}

function describe(c: Candidate, constraints: readonly Constraint[]): string {
  const figures = constraints.map((k) => `${k.metric} ${k.metric === 'throughput' ? `${Math.round(value(c.job, k.metric))}/s` : formatMs(value(c.job, k.metric))} (limit ${k.op} ${k.metric === 'throughput' ? `${k.value}/s` : formatMs(k.value)})`)
  const stability = c.job.stability?.stable ? 'stable' : 'unstable'
  return `${figures.join(', ')}; ${c.job.requests.ok.toLocaleString('en-US')} answers, ${stability}, ${c.runs} stored run${c.runs === 1 ? '' : 's'}`
}
