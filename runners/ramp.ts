import type { LoadRecorder } from '../core/loadgen/recorder.ts'
import type { ServingJob } from '../core/plan.ts'
import type { Backend } from '../core/plugin.ts'
import type { Measurement, PeakResult } from '../core/report.ts'
import type { OpenWorkloadPlan } from '../core/workload.ts'
import { judgeStep, measureAtRate } from './find-peak.ts'
import type { JobContext } from './job-context.ts'
import type { Phase } from './measure.ts'

type Measured = Omit<Measurement, 'coldStartMs' | 'coldStart'>

/**
 * Measures each rate of a ramp in turn, as its own Poisson measurement, judged (valid, stable,
 * within the bench's SLO) like a peak-search step. The job's figures are its highest valid
 * step's; every step is in `ramp.steps` for the throughput-vs-rate curve.
 */
export async function runRamp(job: ServingJob, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void): Promise<Measured & { ramp: { steps: PeakResult['steps'] } }> {
  const plan = (job.workload as OpenWorkloadPlan).ramp!
  const steps: PeakResult['steps'] = []
  let reported: Measured | undefined
  for (const rate of plan.rates) {
    if (ctx.signal.aborted) break
    const measured = await measureAtRate(job, rate, plan.stepMs, plan.seed, backend, ctx, track)
    steps.push(judgeStep(job.slo, rate, measured, ctx.config.measurement.windows))
    if (measured.validity.valid || !reported) reported = measured
  }
  return { ...reported!, ramp: { steps } }
}
