import type { JobReport } from '../report.ts'
import { decodeHistogram } from './histogram.ts'
import type { WindowStat } from './stability.ts'

/**
 * Whether a job got faster or slower between two runs, judged against the noise of the runs
 * themselves, never a bare percentage:
 *
 * - p50 and throughput: a two-sided Mann–Whitney rank test over the two runs' measurement windows
 *   (each window's median and rate are one observation). With 5 windows a side the smallest
 *   p-value is 0.008; a change is significant at p < 0.05. A run split into windows that
 *   disagree (a noisy machine) shows up as overlapping ranks, hence "same within noise".
 * - p99: the distribution-free 95% confidence interval of each run's 99th percentile from its
 *   latency histogram (order statistics: ranks n·q ± 1.96·√(n·q·(1−q))); a change is
 *   significant when the two intervals do not overlap.
 *
 * Both tests see only the noise inside each run. Between runs a machine moves more (which core,
 * clock, cache and page state, a neighbour on a shared host): on a 2-core VM two identical runs
 * of a 50 µs model differed by 20–80% at p50, each run tight within itself. So when the PerfDB
 * holds earlier runs of the job (3 or more, up to 10), the new figure must also lie outside
 * their 99% prediction interval to count. Without that history the verdict rests on within-run
 * noise alone, and says so.
 *
 * A significant change also has a size (the relative change of the figure); `--fail-on-regression
 * <pct>` fails only on a significant regression larger than pct.
 */
export type MetricName = 'p50' | 'p99' | 'throughput'

export interface MetricChange {
  metric: MetricName
  before: number
  after: number
  /** (after − before) / before; for latency, positive is slower. */
  change: number
  significant: boolean
  /** Worse for the user: latency up or throughput down, significantly. */
  regression: boolean
  improvement: boolean
  /** How significance was decided, e.g. 'rank test over 5+5 windows, p=0.008' or 'p99 95% intervals [..] vs [..]'. */
  evidence: string
  /**
   * The noise inside the two runs as a standard deviation on log scale (window to window for p50
   * and throughput, the confidence interval's width for p99): the least spread between runs
   * can have, since runs differ by at least what windows do.
   */
  withinRunSd: number
  /** The test could not have found a change, whatever the figures (too few windows). */
  undecidable?: true
}

export type CompareVerdict = 'faster' | 'slower' | 'same within noise' | 'mixed' | 'not comparable'

/** A job's figures in earlier stored runs: the run-to-run spread. */
export interface JobHistory {
  p50: number[]
  p99: number[]
  throughput: number[]
}

export interface JobComparison {
  jobId: string
  name: string
  verdict: CompareVerdict
  metrics: MetricChange[]
  /** Earlier stored runs whose spread the changes were held against (0: within-run noise only). */
  historyRuns: number
  /** Why a pair could not be compared (a side errored or was skipped). */
  reason?: string
}

export interface RunComparison {
  jobs: JobComparison[]
  /** In the baseline only (renamed, removed or filtered out). */
  onlyBefore: Array<{ jobId: string; name: string }>
  /** In the new run only. */
  onlyAfter: Array<{ jobId: string; name: string }>
}

type Measured = Extract<JobReport, { status: 'passed' | 'failed' }>

export function compareRuns(before: readonly JobReport[], after: readonly JobReport[], history: (jobId: string) => JobHistory | undefined = () => undefined): RunComparison {
  const baseline = new Map(before.map((j) => [j.id, j]))
  const current = new Set(after.map((j) => j.id))
  const named = (jobs: readonly JobReport[]) => {
    const names = displayNames(jobs)
    return (j: JobReport) => ({ jobId: j.id, name: names.get(j.id)! })
  }
  const afterName = named(after)
  return {
    // A job this run skipped (a filter, describe.skip) has nothing to compare.
    jobs: after.filter((j) => baseline.has(j.id) && j.status !== 'skipped').map((j) => ({ ...compareJobs(baseline.get(j.id)!, j, history(j.id)), name: afterName(j).name })),
    onlyBefore: before.filter((j) => !current.has(j.id)).map(named(before)),
    onlyAfter: after.filter((j) => !baseline.has(j.id) && j.status !== 'skipped').map(afterName),
  }
}

/** `suite > name`, plus the parameters that tell apart jobs of the same name (e.g. [batch=8]). */
function displayNames(jobs: readonly JobReport[]): Map<string, string> {
  const groups = new Map<string, JobReport[]>()
  for (const j of jobs) groups.set(fullName(j), [...(groups.get(fullName(j)) ?? []), j])
  const names = new Map<string, string>()
  for (const [name, group] of groups) {
    const keys = [...new Set(group.flatMap((j) => Object.keys(j.params)))]
      .filter((k) => new Set(group.map((j) => String(j.params[k]))).size > 1)
    for (const j of group) names.set(j.id, keys.length ? `${name} [${keys.map((k) => `${k}=${String(j.params[k])}`).join(', ')}]` : name)
  }
  return names
}

export function compareJobs(before: JobReport, after: JobReport, history?: JobHistory): JobComparison {
  const name = fullName(after)
  if (!isMeasured(before) || !isMeasured(after)) {
    const which = !isMeasured(before) ? `the baseline job is ${before.status}` : `the new job is ${after.status}`
    return { jobId: after.id, name, verdict: 'not comparable', metrics: [], historyRuns: 0, reason: which }
  }
  const historyRuns = history ? Math.min(history.p50.length, history.throughput.length) : 0
  const metrics = [
    windowMetric('p50', before, after, (w) => w.p50Ms, false),
    tailMetric(before, after),
    windowMetric('throughput', before, after, (w) => w.requestsPerSec, true),
  ].filter((m): m is MetricChange => m !== undefined)
    .map((m) => (historyRuns >= 3 ? beyondRunToRunSpread(m, history![m.metric]) : m))
  const regressions = metrics.some((m) => m.regression)
  const improvements = metrics.some((m) => m.improvement)
  const verdict: CompareVerdict = regressions && improvements ? 'mixed' : regressions ? 'slower' : improvements ? 'faster' : 'same within noise'
  // "Same within noise" would be a claim the test could not have made.
  const blind = metrics.filter((m) => m.undecidable)
  if (verdict === 'same within noise' && blind.length > 0) {
    return {
      jobId: after.id, name, verdict: 'not comparable', metrics, historyRuns: historyRuns >= 3 ? historyRuns : 0,
      reason: `${blind.map((m) => m.metric).join(' and ')} cannot be judged: ${blind[0]!.evidence.replace(/^rank test over /, '')}`,
    }
  }
  return { jobId: after.id, name, verdict, metrics, historyRuns: historyRuns >= 3 ? historyRuns : 0 }
}

/**
 * Student's t, 99.5th percentile, by degrees of freedom (2..9; 10 stored runs at most): a 99%
 * interval, so an unchanged job is called changed about once in a hundred per figure, not once
 * in twenty (three figures a job, many jobs a run).
 */
const T_995 = [Infinity, 63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250]

/**
 * A within-run significant change counts only if the new figure also falls outside the 99%
 * prediction interval of the earlier stored runs (on log scale: exp(m ± t·s·√(1 + 1/n))), the
 * range where another run of the same code lands 99 times in 100. (The plain range of three
 * runs would miss a fourth identical run half the time.)
 */
function beyondRunToRunSpread(m: MetricChange, values: number[]): MetricChange {
  const logs = values.filter((v) => v > 0).map(Math.log)
  const n = logs.length
  if (n < 3) return m
  const mean = logs.reduce((a, b) => a + b, 0) / n
  // The histogram's 0.1% resolution is the least spread there can be.
  const sd = Math.max(0.001, m.withinRunSd, Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)))
  const half = T_995[Math.min(n - 1, T_995.length - 1)]! * sd * Math.sqrt(1 + 1 / n)
  const low = Math.exp(mean - half)
  const high = Math.exp(mean + half)
  const outside = m.after < low || m.after > high
  const fmt = (v: number) => (m.metric === 'throughput' ? Math.round(v).toLocaleString('en-US') : v.toFixed(3))
  return {
    ...m, significant: m.significant && outside, regression: m.regression && outside, improvement: m.improvement && outside,
    evidence: `${m.evidence}; ${n} stored runs predict [${fmt(low)}, ${fmt(high)}] (99%)${m.significant && !outside ? ', inside it' : ''}`,
  }
}

/** The largest significant regression of a comparison, as a fraction (0.12 = 12% worse); 0 when none. */
export function worstRegression(comparison: RunComparison): { fraction: number; job?: JobComparison; metric?: MetricChange } {
  let worst: { fraction: number; job?: JobComparison; metric?: MetricChange } = { fraction: 0 }
  for (const job of comparison.jobs) {
    for (const m of job.metrics) {
      if (!m.regression) continue
      const fraction = m.metric === 'throughput' ? -m.change : m.change
      if (fraction > worst.fraction) worst = { fraction, job, metric: m }
    }
  }
  return worst
}

function windowMetric(metric: MetricName, before: Measured, after: Measured, value: (w: WindowStat) => number, higherIsBetter: boolean): MetricChange | undefined {
  const a = (before.stability.windows ?? []).filter((w) => w.requests > 0).map(value)
  const b = (after.stability.windows ?? []).filter((w) => w.requests > 0).map(value)
  const beforeValue = metric === 'throughput' ? before.throughput.requestsPerSec : before.latency.p50
  const afterValue = metric === 'throughput' ? after.throughput.requestsPerSec : after.latency.p50
  if (beforeValue <= 0) return undefined
  const change = (afterValue - beforeValue) / beforeValue
  const withinRunSd = pooledLogSd([a, b])
  if (a.length < 3 || b.length < 3) {
    return { metric, before: beforeValue, after: afterValue, change, significant: false, regression: false, improvement: false, evidence: 'too few measurement windows to judge (3 a side needed)', withinRunSd, undecidable: true }
  }
  const p = mannWhitneyP(a, b)
  const significant = p < 0.05
  // 2 / C(n1+n2, n1): the smallest two-sided p the windows allow (3+3 windows: 0.1, never significant).
  const smallest = 2 / binomial(a.length + b.length, a.length)
  const limit = smallest >= 0.05 ? `; ${a.length}+${b.length} windows cannot reach p<0.05, set measurement.windows to 5 or more` : ''
  const worse = higherIsBetter ? afterValue < beforeValue : afterValue > beforeValue
  return {
    metric, before: beforeValue, after: afterValue, change, significant,
    regression: significant && worse, improvement: significant && !worse,
    evidence: `rank test over ${a.length}+${b.length} windows, p=${p.toFixed(3)}${limit}`, withinRunSd,
    ...(limit ? { undecidable: true as const } : {}),
  }
}

function tailMetric(before: Measured, after: Measured): MetricChange | undefined {
  if (!before.histogram || !after.histogram || before.latency.p99 <= 0) return undefined
  const a = quantileInterval(before.histogram, 0.99)
  const b = quantileInterval(after.histogram, 0.99)
  const change = (after.latency.p99 - before.latency.p99) / before.latency.p99
  const significant = a.high < b.low || b.high < a.low
  const worse = after.latency.p99 > before.latency.p99
  const fmt = (i: { low: number; high: number }) => `[${i.low.toFixed(3)}, ${i.high.toFixed(3)}] ms`
  return {
    metric: 'p99', before: before.latency.p99, after: after.latency.p99, change, significant,
    regression: significant && worse, improvement: significant && !worse,
    evidence: `p99 95% intervals ${fmt(a)} vs ${fmt(b)}${significant ? ' (apart)' : ' (overlap)'}`,
    // A 95% interval spans about ±1.96 sd.
    withinRunSd: Math.max(Math.log(a.high / a.low), Math.log(b.high / b.low)) / (2 * 1.96),
  }
}

/** 95% distribution-free interval of quantile q from an encoded histogram of µs, in ms. */
export function quantileInterval(encoded: string, q: number): { low: number; high: number } {
  const h = decodeHistogram(encoded)
  const n = h.totalCount
  const half = 1.96 * Math.sqrt(n * q * (1 - q))
  const rank = (r: number) => Math.min(h.maxValue, h.getValueAtPercentile(Math.min(100, Math.max(0, (r / n) * 100)))) / 1000
  return { low: rank(Math.max(1, Math.floor(n * q - half))), high: rank(Math.min(n, Math.ceil(n * q + half + 1))) }
}

/** Two-sided p-value of the Mann–Whitney U test: exact for small samples, normal approximation above. */
export function mannWhitneyP(a: readonly number[], b: readonly number[]): number {
  const n1 = a.length
  const n2 = b.length
  const u = uStatistic(a, b)
  if (n1 + n2 <= 20) return exactP(u, n1, n2)
  const mean = (n1 * n2) / 2
  const sd = Math.sqrt((n1 * n2 * (n1 + n2 + 1)) / 12)
  const z = (Math.abs(u - mean) - 0.5) / sd
  return Math.min(1, 2 * (1 - normalCdf(z)))
}

/** U of sample a: pairs (x in a, y in b) with x > y, ties counting a half. */
function uStatistic(a: readonly number[], b: readonly number[]): number {
  let u = 0
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0
  return u
}

/** Exact two-sided p of U under H0 by counting arrangements (small n only). */
function exactP(u: number, n1: number, n2: number): number {
  // counts[k] = arrangements of n1 "a" among n1+n2 ranks with U = k (no ties), by recursion on the largest element.
  const memo = new Map<string, number[]>()
  const dist = (m: number, n: number): number[] => {
    const key = `${m},${n}`
    const hit = memo.get(key)
    if (hit) return hit
    let result: number[]
    if (m === 0 || n === 0) result = [1]
    else {
      // The largest value belongs to a (adds n to U) or to b (adds nothing).
      const withA = dist(m - 1, n)
      const withB = dist(m, n - 1)
      result = new Array<number>(m * n + 1).fill(0)
      withA.forEach((c, k) => { result[k + n]! += c })
      withB.forEach((c, k) => { result[k]! += c })
    }
    memo.set(key, result)
    return result
  }
  const counts = dist(n1, n2)
  const total = counts.reduce((s, c) => s + c, 0)
  const mean = (n1 * n2) / 2
  const distance = Math.abs(u - mean)
  let extreme = 0
  counts.forEach((c, k) => { if (Math.abs(k - mean) >= distance - 1e-9) extreme += c })
  return Math.min(1, extreme / total)
}

/** Standard deviation of log values pooled over groups (each group about its own mean). */
function pooledLogSd(groups: number[][]): number {
  let sum = 0
  let df = 0
  for (const g of groups) {
    const logs = g.filter((v) => v > 0).map(Math.log)
    if (logs.length < 2) continue
    const mean = logs.reduce((x, y) => x + y, 0) / logs.length
    sum += logs.reduce((x, y) => x + (y - mean) ** 2, 0)
    df += logs.length - 1
  }
  return df > 0 ? Math.sqrt(sum / df) : 0
}

function binomial(n: number, k: number): number {
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return r
}

function normalCdf(z: number): number {
  // Abramowitz–Stegun 7.1.26 on erf; ample for a p-value.
  const t = 1 / (1 + 0.3275911 * (Math.abs(z) / Math.SQRT2))
  const erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-(z * z) / 2)
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2
}

function isMeasured(job: JobReport): job is Measured {
  return (job.status === 'passed' || job.status === 'failed') && job.latency !== undefined
}

function fullName(job: JobReport): string {
  return job.suite ? `${job.suite} > ${job.name}` : job.name
}
