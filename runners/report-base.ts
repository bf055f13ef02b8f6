import type { ResolvedConfig } from '../core/config.ts'
import type { Job, ServingJob } from '../core/plan.ts'
import type { JobSettings } from '../core/report.ts'

/** The fields every job report has, whatever happened to the job. */
export function reportBase(job: Job) {
  return {
    id: job.id, suite: job.suite, name: job.name, file: job.file, kind: job.kind, params: job.params,
    estimateMs: job.estimateMs, slo: [],
  }
}

/** What a serving job ran with beyond its params, for `inferbench show` and reproduction. */
export function jobSettings(job: ServingJob, config: ResolvedConfig): JobSettings {
  const w = job.workload
  const { probes, ...measurement } = config.measurement
  return {
    workload: w.kind === 'closed'
      ? { label: w.label, kind: w.kind, concurrency: w.concurrency, ...(w.durationMs !== undefined ? { durationMs: w.durationMs } : {}), ...(w.requests !== undefined ? { requests: w.requests } : {}) }
      : { label: w.label, kind: w.kind, offeredRate: w.offeredRate, durationMs: w.durationMs, maxOutstanding: w.maxOutstanding ?? config.measurement.maxOutstanding },
    warmup: job.warmup ?? false,
    probes: job.probes ?? probes,
    ...(job.sharing ? { sharing: job.sharing } : {}),
    measurement,
  }
}
