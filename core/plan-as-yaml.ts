import { processorLabel } from './pipeline.ts'
import { basename } from 'node:path'
import { stringify } from 'yaml'
import { InferbenchError } from './errors.ts'
import type { ModelRef } from './model-ref.ts'
import type { Job, ServingJob } from './plan.ts'

/**
 * A `.bench.ts` file's plan as a `*.bench.yaml` suite, so a cluster can run it as data: the
 * TypeScript ran here, on the submitter's machine, and only what it decided travels — one YAML
 * bench per planned serving job, with every matrix value, the workload, warm-up, SLO, probes and
 * sharing written out. What is code (function benches, check callbacks, beforeAll/afterAll hooks)
 * cannot travel and is refused by name, never dropped silently.
 */
export function planAsYamlSuite(jobs: readonly Job[], file: string, where: string): { name: string; yaml: string } {
  const refused: string[] = []
  const benches: Array<Record<string, unknown>> = []
  for (const job of jobs) {
    if (job.skip) continue
    const label = `${where} > ${job.fullName}`
    if (job.kind === 'function') refused.push(`${label}: a function benchmark is code; it runs locally only`)
    else if (job.check) refused.push(`${label}: its check callback is code; remove it to submit the job, or run it locally`)
    else if (job.suites.some((s) => s.beforeAll.length || s.afterAll.length)) refused.push(`${label}: its describe has beforeAll/afterAll hooks, which are code`)
    else benches.push(servingBench(job, label))
  }
  if (refused.length) {
    throw new InferbenchError('INFERBENCH_USAGE',
      `submit: a cluster runs suites as data, and these jobs carry code:\n  ${refused.slice(0, 8).join('\n  ')}${refused.length > 8 ? `\n  ... and ${refused.length - 8} more` : ''}\n(select the serving jobs with -t, or run the file locally)`)
  }
  if (benches.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `submit: ${where} plans no job to run (all skipped or filtered out)`)
  const stem = basename(file).replace(/\.bench\.([cm]?[jt]sx?|ya?ml)$/, '')
  const header = `# The plan of ${where}, written by inferbench submit: one bench per job.\n`
  return { name: `${stem}.bench.yaml`, yaml: header + stringify({ name: stem, benches }, { lineWidth: 0 }) }
}

function servingBench(job: ServingJob, label: string): Record<string, unknown> {
  // params carries the model's and the sharing's labels for tables; the YAML names them as data.
  const { model: _modelLabel, sharing: _sharingLabel, ...axes } = job.params
  // The pipeline's labels in params are the plan's, written out as the pipeline itself.
  if (job.pipeline) {
    if (axes.data === job.pipeline.data) delete axes.data
    if (job.pipeline.pre && axes.pre === processorLabel(job.pipeline.pre)) delete axes.pre
    if (job.pipeline.post && axes.post === processorLabel(job.pipeline.post)) delete axes.post
  }
  const path = job.suite.split(' > ').slice(1)
  const options = job.workloadRef.options
  checkPlainData(options, `${label}: workload`)
  return {
    name: [...path, job.name].join(' > '),
    // The local job's id: results from the cluster compare with local runs of the same job.
    id: job.id,
    ...(job.model ? { model: modelData(job.model) } : {}),
    ...axes,
    workload: { type: job.workloadRef.type, ...options },
    warmup: job.warmup ? { ...(job.warmup.durationMs !== undefined ? { duration: job.warmup.durationMs } : {}), ...(job.warmup.requests !== undefined ? { requests: job.warmup.requests } : {}) } : false,
    ...(Object.keys(job.slo).length ? { slo: job.slo } : {}),
    ...(job.probes ? { probes: job.probes } : {}),
    ...(job.sharing ? { sharing: job.sharing } : {}),
    ...(job.pipeline ? { pipeline: job.pipeline } : {}),
  }
}

function modelData(ref: ModelRef): Record<string, unknown> {
  switch (ref.source) {
    case 'file':
      return { file: ref.path, ...(ref.name ? { name: ref.name } : {}), ...(ref.dims ? { dims: ref.dims } : {}) }
    case 'repo':
      return { repo: ref.ref, ...(ref.dims ? { dims: ref.dims } : {}) }
    case 'generate':
      return { generate: ref.family, params: ref.params }
  }
}

/** Workload options must survive the trip as data: no functions, class instances or NaN. */
function checkPlainData(value: unknown, where: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return
    throw new InferbenchError('INFERBENCH_USAGE', `submit: ${where}: ${value} cannot be sent as data`)
  }
  if (Array.isArray(value)) return value.forEach((v, i) => checkPlainData(v, `${where}[${i}]`))
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkPlainData(v, `${where}.${k}`)
    return
  }
  throw new InferbenchError('INFERBENCH_USAGE', `submit: ${where}: a ${typeof value === 'function' ? 'function' : (value as object).constructor?.name ?? typeof value} cannot be sent as data`)
}
