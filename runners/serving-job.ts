import { InferbenchError, serializeError } from '../core/errors.ts'
import type { LoadRecorder } from '../core/loadgen/recorder.ts'
import { resolveModel } from '../core/model-resolver.ts'
import type { ServingJob } from '../core/plan.ts'
import type { Backend, ResolvedModel } from '../core/plugin.ts'
import type { JobModelInfo, JobReport, Measurement } from '../core/report.ts'
import { describeVerdict, evaluateSlo } from '../core/stats/slo.ts'
import type { CheckContext } from '../core/tree.ts'
import { PROGRESS_INTERVAL_MS, type JobContext } from './job-context.ts'
import { measure, warmUp, type Phase } from './measure.ts'
import { reportBase } from './report-base.ts'

/**
 * One serving job: resolve the model, start the backend (cold start), warm up, measure, judge
 * the SLOs and the check. Any failure becomes an 'errored' report that keeps what was measured.
 */
export async function runServingJob(job: ServingJob, ctx: JobContext): Promise<JobReport> {
  const base = reportBase(job)
  let model: JobModelInfo | undefined
  let backend: Backend | undefined
  let cold: Pick<Measurement, 'coldStartMs' | 'coldStart'> = {}
  const started = performance.now()
  let current: { recorder?: LoadRecorder; phase: Phase; lastOk: number; lastAt: number } = { phase: 'cold-start', lastOk: 0, lastAt: started }
  const track = (recorder: LoadRecorder, phase: Phase) => {
    current = { recorder, phase, lastOk: 0, lastAt: performance.now() }
  }
  const ticker = setInterval(() => {
    const now = performance.now()
    const r = current.recorder
    const ok = r?.ok ?? 0
    const currentRate = ((ok - current.lastOk) * 1000) / Math.max(now - current.lastAt, 1)
    current.lastOk = ok
    current.lastAt = now
    const elapsedMs = now - started
    const total = job.workload.durationMs
    ctx.onProgress(job, {
      phase: current.phase, elapsedMs, ok, errors: r?.errors ?? 0, currentRate,
      ...(current.phase === 'measure' && total && r ? { fraction: Math.min(1, (now - r.startMs) / total) } : {}),
    })
  }, PROGRESS_INTERVAL_MS)
  ticker.unref()

  try {
    const resolved = job.model ? await resolveModel(job.model, ctx.registry, { cacheDir: ctx.config.cacheDir, repositoryDir: ctx.config.repository }) : undefined
    if (job.model && resolved) {
      model = { name: resolved.name, source: job.model.source, sha256: resolved.sha256, path: resolved.path, ...analyze(resolved, job, ctx) }
    }
    const factory = ctx.registry.backend(job.backend)
    const t0 = performance.now()
    const load = job.workload.kind === 'closed'
      ? { open: false, concurrency: job.workload.concurrency }
      : { open: true, concurrency: job.workload.maxOutstanding ?? ctx.config.measurement.maxOutstanding }
    backend = await factory({ jobId: job.id, ...(resolved ? { model: resolved } : {}), batch: job.batch, params: job.params, cacheDir: ctx.config.cacheDir, load })
    const loadMs = performance.now() - t0
    Object.assign(ctx.versions, backend.versions)
    const t1 = performance.now()
    await backend.infer()
    const firstInferMs = performance.now() - t1
    cold = { coldStartMs: loadMs + firstInferMs, coldStart: { loadMs, firstInferMs, ...backend.coldStart } }

    await warmUp(job, backend, ctx, track)
    const measured = { ...(await measure(job, backend, ctx, track)), ...cold }
    const withModel = { ...base, ...(model ? { model } : {}), ...(backend.info ? { backendInfo: backend.info } : {}) }
    if (measured.requests.ok === 0) {
      throw new InferbenchError('INFERBENCH_BACKEND_FAILED',
        `no request succeeded (${measured.requests.errors} failed)${measured.firstError ? `: ${measured.firstError}` : ''}`)
    }
    const errorRate = measured.requests.errors / (measured.requests.ok + measured.requests.errors)
    const slo = evaluateSlo(job.slo, { latency: measured.latency, requestsPerSec: measured.throughput.requestsPerSec, errorRate })
    const failures = slo.filter((v) => !v.pass).map((v) => `SLO ${describeVerdict(v)}`)
    const checked = job.check ? await runCheck(job, measured) : undefined
    if (checked?.failure) failures.push(checked.failure)
    const full = { ...withModel, ...measured, ...(checked?.extra ? { extra: checked.extra } : {}), slo }
    return failures.length ? { ...full, status: 'failed', failures } : { ...full, status: 'passed' }
  } catch (error) {
    return {
      ...base, ...(model ? { model } : {}), ...cold, ...(current.recorder ? partialFrom(current.recorder, job.batch) : {}),
      status: 'errored', error: serializeError(error),
    }
  } finally {
    clearInterval(ticker)
    if (backend) await backend.close()
  }
}

/** Parameters, FLOPs and bytes at the job's shapes; an analysis failure is recorded, never fatal. */
function analyze(model: ResolvedModel, job: ServingJob, ctx: JobContext): Partial<JobModelInfo> {
  const numeric = Object.fromEntries(Object.entries(job.params).filter((e): e is [string, number] => typeof e[1] === 'number'))
  const shapes = { batch: job.batch, dims: { ...model.dims, ...numeric } }
  for (const analyzer of ctx.registry.analyzers()) {
    try {
      const stats = analyzer(model, shapes)
      if (stats) return stats
    } catch (error) {
      return { uncounted: [`analysis failed: ${(error as Error).message}`] }
    }
  }
  return {}
}

async function runCheck(job: ServingJob, m: Omit<Measurement, never>): Promise<{ failure?: string; extra?: Record<string, number> }> {
  const context: CheckContext = {
    id: job.id, name: job.name, params: job.params, latency: m.latency, throughput: m.throughput,
    requests: { ok: m.requests.ok, errors: m.requests.errors, late: m.requests.late, overflow: m.requests.overflow },
    ...(m.coldStartMs !== undefined ? { coldStartMs: m.coldStartMs } : {}),
  }
  try {
    const extra = await job.check!(context)
    return extra ? { extra } : {}
  } catch (error) {
    return { failure: `check: ${error instanceof Error ? error.message : String(error)}` }
  }
}

function partialFrom(recorder: LoadRecorder, batch: number): Partial<Measurement> {
  return { requests: { ok: recorder.ok, errors: recorder.errors, late: recorder.late, overflow: recorder.overflow }, batch }
}
