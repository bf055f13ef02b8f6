import type { JobReport, Measurement } from '../../core/report.ts'
import type { Scalar } from '../../core/types.ts'

/** A job that measured something: what every chart reads. */
export type MeasuredJob = JobReport & Measurement

export function measuredJobs(jobs: readonly JobReport[]): MeasuredJob[] {
  return jobs.filter((j): j is MeasuredJob => j.kind === 'serving' && (j.status === 'passed' || j.status === 'failed') && 'latency' in j && Boolean(j.latency))
}

/**
 * A job's parameters with a generated model's hyper-parameters split out of its label
 * (`fc(layers=2,width=16)` → `model.layers: 2, model.width: 16`), so they can be axes of a chart.
 */
export function axesOf(job: MeasuredJob): Record<string, Scalar> {
  const axes: Record<string, Scalar> = { ...job.params }
  const m = typeof job.params.model === 'string' ? /^([\w-]+)\((.*)\)$/.exec(job.params.model) : null
  if (m) {
    axes.model = m[1]!
    for (const pair of m[2]!.split(',')) {
      const [k, v] = pair.split('=')
      if (k && v !== undefined) axes[`model.${k}`] = Number.isFinite(Number(v)) ? Number(v) : v
    }
  }
  return axes
}

/** One axis's value for a job: 'bench' is its bench's name. */
export function axisValue(job: MeasuredJob, axis: string): Scalar | undefined {
  return axis === 'bench' ? job.name : axesOf(job)[axis]
}

/** Axes whose value differs between the jobs: what the suite swept ('bench' when it holds several benches). */
export function sweptAxes(jobs: readonly MeasuredJob[]): string[] {
  const values = new Map<string, Set<string>>()
  for (const job of jobs) {
    for (const [k, v] of Object.entries(axesOf(job))) values.set(k, (values.get(k) ?? new Set()).add(String(v)))
  }
  const swept = [...values].filter(([, v]) => v.size > 1).map(([k]) => k)
  return new Set(jobs.map((j) => j.name)).size > 1 ? ['bench', ...swept] : swept
}

/** The job's configuration without the given axes: the name of one line in a chart. */
export function seriesLabel(job: MeasuredJob, omit: readonly string[], swept: readonly string[]): string {
  const axes = axesOf(job)
  // A swept model hyper-parameter names the line by itself; the full model label would repeat it.
  const skipModel = swept.some((k) => k.startsWith('model.'))
  const parts = Object.entries(axes)
    .filter(([k]) => !omit.includes(k) && swept.includes(k) && !(skipModel && k === 'model'))
    .map(([k, v]) => `${k}=${v}`)
  if (!swept.includes('bench')) return parts.join(', ') || job.name
  return parts.length ? `${job.name}: ${parts.join(', ')}` : job.name
}

/** The load a job offered: closed-loop clients, or the open-loop arrival rate. */
export function loadOf(job: MeasuredJob): { kind: 'concurrency' | 'rate'; value: number } | undefined {
  if (job.rate) return { kind: 'rate', value: job.rate.offered }
  const concurrency = job.settings?.workload.concurrency
  return concurrency === undefined ? undefined : { kind: 'concurrency', value: concurrency }
}
