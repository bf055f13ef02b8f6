import { Bench } from 'tinybench'
import { serializeError } from '../core/errors.ts'
import type { FunctionJob } from '../core/plan.ts'
import type { JobReport } from '../core/report.ts'
import { assessValidity, describeProblem } from '../core/stats/validity.ts'
import { reportBase } from './report-base.ts'

/** Above this relative margin of error (95% CI of the mean) a micro-benchmark is called unstable. */
const MAX_RME_PERCENT = 5

/** A plain function micro-benchmark (pre/post-processing code), measured by tinybench. */
export async function runFunctionJob(job: FunctionJob): Promise<JobReport> {
  const base = reportBase(job)
  try {
    const bench = new Bench({
      name: job.name, time: job.options.timeMs, warmupTime: job.options.warmupTimeMs, retainSamples: true,
      ...(job.options.iterations !== undefined ? { iterations: job.options.iterations } : {}),
      ...(job.options.warmupIterations !== undefined ? { warmupIterations: job.options.warmupIterations } : {}),
    })
    bench.add(job.name, job.fn)
    await bench.run()
    const result = bench.tasks[0]!.result
    if (result.state === 'errored') throw result.error
    if (result.state !== 'completed') throw new Error(`tinybench ended the task as '${result.state}'`)
    const lat = result.latency
    const samples = lat.samples ?? []
    const requestsPerSec = result.period > 0 ? 1000 / result.period : 0
    const stable = lat.rme <= MAX_RME_PERCENT
    // A bench that asked for a fixed, small number of iterations is valid with exactly that many.
    const validity = assessValidity({ durationMs: result.totalTime, ok: lat.samplesCount, minDurationMs: 0, minRequests: Math.min(10, job.options.iterations ?? 10) })
    const measured = {
      ...base,
      latency: {
        min: lat.min, p50: lat.p50, p90: quantile(samples, 0.9), p95: quantile(samples, 0.95), p99: lat.p99, p999: lat.p999,
        max: lat.max, mean: lat.mean, stdev: lat.sd,
      },
      throughput: { requestsPerSec, samplesPerSec: requestsPerSec },
      requests: { ok: lat.samplesCount, errors: 0, late: 0, overflow: 0 },
      batch: 1,
      durationMs: result.totalTime,
      stability: {
        stable,
        ...(stable ? {} : { reason: `relative margin of error ±${lat.rme.toFixed(1)}% exceeds ±${MAX_RME_PERCENT}%; run longer (time option)` }),
        windows: [],
      },
      validity,
    }
    return validity.valid ? { ...measured, status: 'passed' } : { ...measured, status: 'failed', failures: validity.problems.map(describeProblem) }
  } catch (error) {
    return { ...base, status: 'errored', error: serializeError(error) }
  }
}

/** Linear-interpolated quantile of ascending samples. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}
