import { TAIL_SAMPLES, answersToResolve } from './slo.ts'

/**
 * Whether a run measured enough to be trusted, in the spirit of MLPerf LoadGen's validity rules.
 * A problem makes the run invalid; a warning is a caveat on one figure. Each says how to fix it.
 */
export interface ValidityIssue {
  code: string
  message: string
  fix: string
}

export interface Validity {
  valid: boolean
  problems: ValidityIssue[]
  warnings: ValidityIssue[]
}

export interface ValidityInput {
  durationMs: number
  ok: number
  minDurationMs: number
  minRequests: number
  /** Requests that failed, and the share of all requests that may (default 1%; the SLO's errorRate when it sets one). */
  errors?: number
  maxErrorRate?: number
  open?: { scheduled: number; overflow: number; late: number; offeredRate: number; achievedRate: number }
}

const LATE_FRACTION = 0.01
/** Failed requests a valid measurement may hold: beyond this the figures describe the errors' path, not the service's. */
const ERROR_FRACTION = 0.01
/**
 * Late sends a run may have whatever its length: on a shared machine a scheduler hiccup delays a
 * send or two by a few ms (their latency still counts from the intended time), and in a short run
 * of 40 sends one of them is already 2.5%. More than this, and more than 1%, is a generator that
 * could not keep the schedule.
 */
const LATE_ALLOWANCE = 2
const SATURATION = 0.95
/** Below this many scheduled requests the achieved rate is a few answers over a few ms: no verdict on saturation. */
const SATURATION_MIN_SCHEDULED = 50

export function assessValidity(input: ValidityInput): Validity {
  const problems: ValidityIssue[] = []
  const warnings: ValidityIssue[] = []
  // 2% of slack: a workload of exactly the minimum measures a little less (the first arrival is not
  // at 0, the window ends at the last answer) and must not be invalid for it.
  if (input.durationMs < input.minDurationMs * 0.98) {
    problems.push({
      code: 'too-short',
      message: `measured for ${(input.durationMs / 1000).toFixed(3)}s, under the minimum of ${(input.minDurationMs / 1000).toFixed(3)}s`,
      fix: 'run longer',
    })
  }
  if (input.ok < input.minRequests) {
    problems.push({
      code: 'too-few-requests',
      message: `${input.ok} answered requests, under the minimum of ${input.minRequests}`,
      fix: 'run longer, or raise the rate or concurrency',
    })
  }
  const errors = input.errors ?? 0
  const allowed = input.maxErrorRate ?? ERROR_FRACTION
  if (errors > 0 && errors / (errors + input.ok) > allowed) {
    problems.push({
      code: 'request-errors',
      message: `${errors} of ${errors + input.ok} requests failed (${((errors / (errors + input.ok)) * 100).toFixed(1)}%, over ${(allowed * 100).toFixed(allowed < 0.01 ? 2 : 0)}%)`,
      fix: 'fix what the first error names; an SLO errorRate sets the share a run may fail',
    })
  }
  for (const [name, p] of [['p99', 0.99], ['p99.9', 0.999]] as const) {
    const beyond = input.ok * (1 - p)
    if (input.ok > 0 && beyond < TAIL_SAMPLES) {
      warnings.push({
        code: `thin-tail-${name}`,
        message: `${name} rests on ${beyond.toFixed(1)} samples beyond it (${input.ok} in all); it is close to the maximum, not a percentile`,
        fix: `run longer (${answersToResolve(p)} answered requests resolve ${name})`,
      })
    }
  }
  const open = input.open
  if (open) {
    if (open.overflow > 0) {
      problems.push({
        code: 'overflow',
        message: `${open.overflow} of ${open.scheduled} scheduled requests were not sent: too many requests were outstanding`,
        fix: 'lower the rate, or raise maxOutstanding',
      })
    }
    if (open.late > Math.max(open.scheduled * LATE_FRACTION, LATE_ALLOWANCE)) {
      problems.push({
        code: 'late-sends',
        message: `${open.late} of ${open.scheduled} requests were sent late: the load generator could not keep the schedule`,
        fix: 'lower the rate, or leave the load generator a core (fewer inference threads, e.g. intraOpThreads; a server on other cores)',
      })
    }
    if (open.scheduled >= SATURATION_MIN_SCHEDULED && open.achievedRate < open.offeredRate * SATURATION) {
      warnings.push({
        code: 'saturated',
        message: `achieved ${open.achievedRate.toFixed(1)} req/s of the ${open.offeredRate.toFixed(1)} req/s the schedule offered: the backend cannot keep up`,
        fix: 'lower the rate to measure latency below saturation',
      })
    }
  }
  return { valid: problems.length === 0, problems, warnings }
}

/** A validity problem as a job failure: `invalid: <what>; <fix>`. */
export function describeProblem(p: ValidityIssue): string {
  return `invalid: ${p.message}; ${p.fix}`
}
