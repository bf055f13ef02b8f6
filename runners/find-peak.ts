import type { LoadRecorder } from '../core/loadgen/recorder.ts'
import { poissonArrivals } from '../core/loadgen/arrivals.ts'
import type { ServingJob } from '../core/plan.ts'
import type { Backend } from '../core/plugin.ts'
import type { Measurement, PeakResult } from '../core/report.ts'
import { answersToResolve, describeVerdict, evaluateSlo, type ResolvedSlo } from '../core/stats/slo.ts'
import type { OpenWorkloadPlan, PeakSearch } from '../core/workload.ts'
import { collectGarbage } from './collect-garbage.ts'
import type { JobContext } from './job-context.ts'
import { measure, type Phase } from './measure.ts'

type Measured = Omit<Measurement, 'coldStartMs' | 'coldStart'>
type Step = PeakResult['steps'][number]

/** A step at a low rate may be lengthened to this many times `step` (or 10 s), for the percentile's answers. */
const MAX_STEP_STRETCH = 4
const MAX_STEP_MS = 10_000
const QUANTILE: Record<string, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 }

/**
 * The highest Poisson rate the backend serves within the search's SLO (goodput), as MLPerf
 * LoadGen's FindPeakPerformance and perf_analyzer's binary search find it: from a first rate,
 * double while steps pass (halve while they fail) to bracket the peak, then bisect until the
 * passing and failing rates are within `precision`. A step passes when its measurement is valid
 * (sent on time, enough answers), stable (taken again once if not; judged when its windows hold
 * enough answers to tell interference from Poisson noise), and meets every limit; each step
 * lasts long enough for the SLO's percentile to rest on 10 answers beyond it.
 * Returns the measurement at the best passing rate (when none passed, the valid step nearest its
 * limits) and every step.
 */
export async function findPeak(job: ServingJob, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void): Promise<Measured & { peak: PeakResult }> {
  const search = (job.workload as OpenWorkloadPlan).search!
  const steps: Step[] = []
  let best: { rate: number; measured: Measured } | undefined
  // No rate passing: the valid step nearest its limits is the one worth reporting.
  let nearest: { ratio: number; measured: Measured } | undefined
  let last: Measured | undefined
  let lastRatio = Number.POSITIVE_INFINITY
  const tryRate = async (rate: number): Promise<boolean> => {
    const measured = await stepAt(job, search, rate, backend, ctx, track)
    last = measured
    const step = judgeStep(search.slo, rate, measured, ctx.config.measurement.windows)
    steps.push(step)
    lastRatio = worstRatio(search, measured)
    if (step.meets && (!best || rate > best.rate)) best = { rate, measured }
    if (measured.validity.valid && (!nearest || lastRatio < nearest.ratio)) nearest = { ratio: lastRatio, measured }
    return step.meets
  }

  let pass: number | undefined
  let fail: number | undefined
  let rate = search.low ?? await startingRate(job, backend, ctx, track)
  let stoppedBy: PeakResult['stoppedBy'] = 'max-steps'
  let ratioBefore = Number.POSITIVE_INFINITY
  // Bracket: double from a pass, halve from a fail.
  while (steps.length < search.maxSteps && !ctx.signal.aborted) {
    if (await tryRate(rate)) {
      pass = rate
      if (fail !== undefined) break
      if (search.high !== undefined && rate >= search.high) { stoppedBy = 'high'; break }
      rate = search.high !== undefined ? Math.min(rate * 2, search.high) : rate * 2
    } else {
      const previousRatio = ratioBefore
      const valid = steps.at(-1)!.valid
      ratioBefore = valid ? lastRatio : Number.POSITIVE_INFINITY
      fail = rate
      if (pass !== undefined) break
      if (rate <= 1) { stoppedBy = 'low'; break }
      // Latency that does not fall as the rate halves is service time, not queueing: no lower
      // rate will meet the SLO, and each would take longer to measure.
      if (valid && lastRatio > 1 && lastRatio > previousRatio * 0.9) { stoppedBy = 'low'; break }
      rate = Math.max(1, rate / 2)
    }
  }
  // Bisect the bracket.
  while (pass !== undefined && fail !== undefined && steps.length < search.maxSteps && !ctx.signal.aborted) {
    if ((fail - pass) / fail <= search.precision) { stoppedBy = 'precision'; break }
    const mid = (pass + fail) / 2
    if (await tryRate(mid)) pass = mid
    else fail = mid
  }
  if (pass !== undefined && fail !== undefined && (fail - pass) / fail <= search.precision) stoppedBy = 'precision'
  const chosen = best?.measured ?? nearest?.measured ?? last!
  // The goodput is the SLO's only when the first failing rate above it failed the SLO; a rate the
  // load generator could not send on time says nothing about the backend.
  const above = best ? steps.filter((st) => !st.meets && st.rate > best!.rate).sort((a, b) => a.rate - b.rate)[0] : undefined
  const boundBy: PeakResult['boundBy'] = above?.why?.includes('late-sends') ? 'load-generator' : 'slo'
  return {
    ...chosen,
    peak: {
      ...(best ? { goodputRps: round(best.rate), goodputSamplesPerSec: round(best.rate * job.batch), boundBy } : {}),
      slo: search.sloLabel, steps, stoppedBy,
    },
  }
}

/** The worst of the SLO's latency figures against its limit (1 = at the limit). */
function worstRatio(search: PeakSearch, m: Measured): number {
  return Math.max(...Object.entries(search.slo).map(([k, limit]) => (m.latency[k as keyof typeof m.latency] as number) / (limit as number)))
}

/** Without a first rate: 70% of what one closed-loop client gets through in half a step. */
async function startingRate(job: ServingJob, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void): Promise<number> {
  const probe = await measure({ ...job, workload: { kind: 'closed', label: 'capacity probe', concurrency: 1, durationMs: (job.workload as OpenWorkloadPlan).search!.stepMs / 2 } }, backend, ctx, track)
  return Math.max(1, Math.round(probe.throughput.requestsPerSec * 0.7))
}

async function stepAt(job: ServingJob, search: PeakSearch, rate: number, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void): Promise<Measured> {
  const needed = Math.max(...Object.keys(search.slo).map((k) => (QUANTILE[k] ? answersToResolve(QUANTILE[k]!) : 0)))
  const durationMs = Math.min(Math.max(search.stepMs, (needed / rate) * 1000 * 1.1), Math.max(search.stepMs * MAX_STEP_STRETCH, MAX_STEP_MS))
  return measureAtRate(job, rate, durationMs, search.seed, backend, ctx, track)
}

/** One Poisson measurement at `rate`, taken again once when unstable (perf_analyzer's retry). */
export async function measureAtRate(job: ServingJob, rate: number, durationMs: number, seed: number, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void): Promise<Measured> {
  const plan = job.workload as OpenWorkloadPlan
  const workload: OpenWorkloadPlan = {
    kind: 'open', label: `poisson(${round(rate)}/s, ${(durationMs / 1000).toFixed(1)}s, seed=${seed})`, offeredRate: rate, durationMs,
    arrivalsMs: poissonArrivals(rate, durationMs, seed), ...(plan.maxOutstanding ? { maxOutstanding: plan.maxOutstanding } : {}),
  }
  collectGarbage()
  let measured = await measure({ ...job, workload }, backend, ctx, track)
  if (!measured.stability.stable && measured.validity.valid && !ctx.signal.aborted) {
    collectGarbage()
    measured = await measure({ ...job, workload }, backend, ctx, track)
  }
  return measured
}

/**
 * Answers per stability window below which an open loop's windows differ by Poisson noise alone
 * (1/√n: 10% at 100): an "unstable" verdict there says nothing about the backend.
 */
const STABLE_WINDOW_ANSWERS = 100

/** A step's verdict: valid, stable where its windows can tell, and within every limit of `slo`. */
export function judgeStep(slo: ResolvedSlo, rate: number, m: Measured, windows: number): Step {
  const verdicts = evaluateSlo(slo, { latency: m.latency, requestsPerSec: m.throughput.requestsPerSec, errorRate: m.requests.errors / Math.max(1, m.requests.ok + m.requests.errors), answered: m.requests.ok })
  const unmet = verdicts.filter((v) => !v.pass)
  const why = !m.validity.valid ? `invalid: ${m.validity.problems.map((p) => p.code).join(', ')}`
    : !m.stability.stable && m.requests.ok / windows >= STABLE_WINDOW_ANSWERS ? `unstable: ${m.stability.reason ?? 'windows disagree'}`
      : unmet.length ? unmet.map(describeVerdict).join('; ') : undefined
  return {
    rate: round(rate), achievedRps: round(m.throughput.requestsPerSec), p50: m.latency.p50, p99: m.latency.p99, answers: m.requests.ok,
    valid: m.validity.valid, stable: m.stability.stable, meets: why === undefined, ...(why ? { why } : {}),
  }
}

function round(x: number): number {
  return Math.round(x * 10) / 10
}
