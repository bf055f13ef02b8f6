import type { Job } from '../core/plan.ts'

/** The fields every job report has, whatever happened to the job. */
export function reportBase(job: Job) {
  return {
    id: job.id, suite: job.suite, name: job.name, file: job.file, kind: job.kind, params: job.params,
    estimateMs: job.estimateMs, slo: [],
  }
}
