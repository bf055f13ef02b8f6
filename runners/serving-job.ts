import { abortable, withTimeout } from '../core/abort.ts'
import { formatMs } from '../core/duration.ts'
import { InferbenchError, serializeError } from '../core/errors.ts'
import type { LoadRecorder } from '../core/loadgen/recorder.ts'
import { resolveModel } from '../core/model-resolver.ts'
import type { ServingJob } from '../core/plan.ts'
import type { Backend, ResolvedModel } from '../core/plugin.ts'
import type { CostFigures, IdleCheck, JobModelInfo, JobReport, Measurement } from '../core/report.ts'
import { describeVerdict, evaluateSlo } from '../core/stats/slo.ts'
import { describeProblem } from '../core/stats/validity.ts'
import { collectGarbage } from './collect-garbage.ts'
import type { CheckContext } from '../core/tree.ts'
import { placementOf } from '../core/pipeline.ts'
import { withPipeline } from './pipeline.ts'
import { PROGRESS_INTERVAL_MS, type JobContext } from './job-context.ts'
import { findPeak } from './find-peak.ts'
import { measure, warmUp, type Phase } from './measure.ts'
import { runRamp } from './ramp.ts'
import { waitForIdle } from './idle-check.ts'
import { jobSettings, reportBase } from './report-base.ts'

/** Longest wait for a backend's close() before the run moves on (and says so). */
const CLOSE_TIMEOUT_MS = 15_000

/**
 * One serving job: resolve the model, start the backend (cold start), warm up, measure, judge
 * the SLOs and the check. Any failure becomes an 'errored' report that keeps what was measured.
 *
 * The job stops at once, and its backend is closed before the next job starts, when it times
 * out (measurement.jobTimeout), when the run is interrupted, or when the backend reports that it
 * died (BackendContext.fail): the abort's reason is then the job's error.
 */
export async function runServingJob(job: ServingJob, ctx: JobContext): Promise<JobReport> {
  let idleCheck: IdleCheck | undefined
  if (ctx.config.measurement.idle) {
    try {
      idleCheck = await waitForIdle(ctx.config.measurement.idle, ctx.registry, ctx.signal,
        (elapsedMs) => ctx.onProgress(job, { phase: 'idle-wait', elapsedMs, ok: 0, errors: 0, currentRate: 0 }))
    } catch (error) {
      return { ...reportBase(job), settings: jobSettings(job, ctx.config), status: 'errored', error: serializeError(ctx.signal.aborted ? interrupted(ctx.signal.reason) : error) }
    }
  }
  const report = await runTimed(job, ctx)
  return idleCheck ? { ...report, idleCheck } : report
}

async function runTimed(job: ServingJob, ctx: JobContext): Promise<JobReport> {
  const controller = new AbortController()
  const stopWith = (error: Error) => { if (!controller.signal.aborted) controller.abort(error) }
  const onRunAbort = () => stopWith(interrupted(ctx.signal.reason))
  if (ctx.signal.aborted) onRunAbort()
  else ctx.signal.addEventListener('abort', onRunAbort, { once: true })
  const timeoutMs = ctx.config.measurement.jobTimeout
  const timer = setTimeout(() => stopWith(new InferbenchError('INFERBENCH_JOB_TIMEOUT',
    `job exceeded measurement.jobTimeout (${formatMs(timeoutMs)}); raise it or shorten the workload`)), timeoutMs)
  try {
    return await runUntilAborted(job, { ...ctx, signal: controller.signal }, stopWith)
  } finally {
    clearTimeout(timer)
    ctx.signal.removeEventListener('abort', onRunAbort)
  }
}

async function runUntilAborted(job: ServingJob, ctx: JobContext, fail: (error: Error) => void): Promise<JobReport> {
  const { signal } = ctx
  const base = { ...reportBase(job), settings: jobSettings(job, ctx.config) }
  let model: JobModelInfo | undefined
  let backend: Backend | undefined
  let cold: Pick<Measurement, 'coldStartMs' | 'coldStart'> = {}
  const links: Array<{ close(): Promise<void> }> = []
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
    const resolved = job.model
      ? await abortable(resolveModel(job.model, ctx.registry, { cacheDir: ctx.config.cacheDir, repositoryDir: ctx.config.repository }), signal)
      : undefined
    if (job.model && resolved) {
      model = { name: resolved.name, source: job.model.source, sha256: resolved.sha256, path: resolved.path, ...analyze(resolved, job, ctx) }
    }
    const factory = ctx.registry.backend(job.backend)
    const t0 = performance.now()
    const load = job.workload.kind === 'closed'
      ? { open: false, concurrency: job.workload.concurrency }
      : { open: true, concurrency: job.workload.maxOutstanding ?? ctx.config.measurement.maxOutstanding }
    const route = linkRouter(job, ctx, links)
    // A plugin's factory may return its backend or a promise of it.
    const starting = Promise.resolve(factory({
      jobId: job.id, ...(resolved ? { model: resolved } : {}), ...(job.sharing ? { sharing: job.sharing } : {}), batch: job.batch, params: job.params, cacheDir: ctx.config.cacheDir, load, signal, fail, route,
      ...(job.pipeline?.pre && placementOf(job.params, job.fullName) === 'server' ? { serverPre: job.pipeline.pre } : {}),
    }))
    backend = await abortable(starting, signal, (late) => late.close())
    const loadMs = performance.now() - t0
    Object.assign(ctx.versions, backend.versions)
    // Reading and screening the request data is not the backend's cold start.
    if (job.pipeline) backend = await abortable(withPipeline({ ...job, pipeline: job.pipeline }, backend, ctx), signal)
    const t1 = performance.now()
    await abortable(Promise.resolve(backend.infer()), signal)
    const firstInferMs = performance.now() - t1
    cold = { coldStartMs: loadMs + firstInferMs, coldStart: { loadMs, firstInferMs, ...backend.coldStart } }

    await warmUp(job, backend, ctx, track)
    if (signal.aborted) throw signal.reason
    collectGarbage()
    const search = job.workload.kind === 'open' && job.workload.search
    const stepped = Boolean(search) || (job.workload.kind === 'open' && job.workload.ramp !== undefined)
    let measured: Measurement = {
      ...(search ? await findPeak(job, backend, ctx, track) : stepped ? await runRamp(job, backend, ctx, track) : await measure(job, backend, ctx, track)),
      ...cold,
    }
    // perf_analyzer's practice: an unstable measurement is taken again before it is reported;
    // the last attempt is the result, and it says how many it took. (Stepped workloads retry per step.)
    for (let attempt = 2; !stepped && attempt <= 1 + ctx.config.measurement.stabilityRetries; attempt++) {
      if (signal.aborted || measured.stability.stable || !measured.validity.valid) break
      collectGarbage()
      measured = { ...(await measure(job, backend, ctx, track)), ...cold, attempts: attempt }
    }
    const cost = costOf(measured, ctx)
    if (cost) measured = { ...measured, cost }
    const withModel = { ...base, ...(model ? { model } : {}), ...(backend.info ? { backendInfo: backend.info } : {}) }
    // Stopped mid-measurement: the figures so far are kept, the abort's reason is the verdict.
    if (signal.aborted) return { ...withModel, ...measured, status: 'errored', error: serializeError(signal.reason) }
    if (measured.requests.ok === 0) {
      throw new InferbenchError('INFERBENCH_BACKEND_FAILED',
        `no request succeeded (${measured.requests.errors} failed)${measured.firstError ? `: ${measured.firstError}` : ''}`)
    }
    const errorRate = measured.requests.errors / (measured.requests.ok + measured.requests.errors)
    // A peak search's own SLO is judged on the measurement it reports, beside the bench's.
    const slo = evaluateSlo(search ? { ...search.slo, ...job.slo } : job.slo, { latency: measured.latency, requestsPerSec: measured.throughput.requestsPerSec, errorRate, answered: measured.requests.ok })
    // An invalid measurement cannot pass, whatever its figures: its problems are failures.
    const failures = [
      ...(measured.peak && measured.peak.goodputRps === undefined ? [`findPeak: no rate met ${measured.peak.slo}; tried ${measured.peak.steps.map((st) => `${st.rate}/s (${st.why})`).join(', ')}`] : []),
      ...measured.validity.problems.map(describeProblem),
      ...slo.filter((v) => !v.pass).map((v) => `SLO ${describeVerdict(v)}`),
    ]
    const checked = job.check ? await runCheck(job, measured, model, backend.info) : undefined
    if (checked?.failure) failures.push(checked.failure)
    const full = { ...withModel, ...measured, ...(checked?.extra ? { extra: checked.extra } : {}), slo }
    return failures.length ? { ...full, status: 'failed', failures } : { ...full, status: 'passed' }
  } catch (error) {
    return {
      ...base, ...(model ? { model } : {}), ...(backend?.info ? { backendInfo: backend.info } : {}), ...cold,
      // Warm-up answers are not measurements: only what the measurement itself counted is kept.
      ...(current.recorder && current.phase === 'measure' ? partialFrom(current.recorder, job.batch) : {}),
      // Errors caused by the abort (requests to a dead server) are symptoms; the reason is the cause.
      status: 'errored', error: serializeError(signal.aborted ? signal.reason : error),
    }
  } finally {
    clearInterval(ticker)
    if (backend) await closeBackend(backend, job)
    await Promise.all(links.map((l) => l.close()))
  }
}

/**
 * BackendContext.route: with `network` set, each address the backend connects to gets an
 * emulated link in front of it (closed with the job); without, the address itself.
 */
function linkRouter(job: ServingJob, ctx: JobContext, links: Array<{ close(): Promise<void> }>): (address: string) => Promise<string> {
  const name = job.params.network
  if (name === undefined) return async (address) => address
  const factory = ctx.registry.link(String(name))
  return async (address) => {
    const m = /^((?:[a-z]+:\/\/)?)(\[[^\]]+\]|[^:/]+):(\d+)(.*)$/.exec(address)
    if (!m) throw new InferbenchError('INFERBENCH_BACKEND_FAILED', `network ${name}: cannot put a link in front of '${address}' (expected host:port)`)
    const link = await factory({ host: m[2]!.replace(/^\[|\]$/g, ''), port: Number(m[3]) })
    links.push(link)
    return `${m[1]}127.0.0.1:${link.port}${m[4]}`
  }
}

async function closeBackend(backend: Backend, job: ServingJob): Promise<void> {
  try {
    await withTimeout(backend.close(), CLOSE_TIMEOUT_MS, () => {
      process.emitWarning(`inferbench: the backend of job ${job.id} (${job.fullName}) did not close within ${CLOSE_TIMEOUT_MS / 1000}s; moving on`)
    })
  } catch (error) {
    process.emitWarning(`inferbench: closing the backend of job ${job.id} (${job.fullName}) failed: ${(error as Error).message}`)
  }
}

/**
 * The config's cost model on the measurement; none when no plugin offers it (a registry built by
 * hand). A cost model that throws costs the job its cost figures only, never its measurement.
 */
function costOf(measured: Measurement, ctx: JobContext): CostFigures | undefined {
  const name = ctx.config.cost.model
  if (!ctx.registry.names('costModels').includes(name)) return undefined
  try {
    return ctx.registry.costModel(name).compute({ measurement: measured, settings: ctx.config.cost })
  } catch (error) {
    return { missing: [`cost model '${name}' failed: ${(error as Error).message}`] }
  }
}

/** The run's abort (Ctrl-C) as the job's error: interrupted, never "no request succeeded". */
function interrupted(reason: unknown): InferbenchError {
  return reason instanceof InferbenchError ? reason : new InferbenchError('INFERBENCH_INTERRUPTED', `interrupted${typeof reason === 'string' && reason !== 'interrupted' ? ` (${reason})` : ''}; the figures measured so far are kept`)
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

async function runCheck(job: ServingJob, m: Omit<Measurement, never>, model?: JobModelInfo, backendInfo?: Record<string, unknown>): Promise<{ failure?: string; extra?: Record<string, number> }> {
  const context: CheckContext = {
    id: job.id, name: job.name, params: job.params, latency: m.latency, throughput: m.throughput,
    requests: { ok: m.requests.ok, errors: m.requests.errors, late: m.requests.late, overflow: m.requests.overflow },
    ...(m.coldStartMs !== undefined ? { coldStartMs: m.coldStartMs } : {}),
    ...(m.sendDelay ? { sendDelay: m.sendDelay } : {}),
    ...(m.processCpu ? { processCpu: m.processCpu } : {}),
    ...(model ? { model: { name: model.name, path: model.path, sha256: model.sha256 } } : {}),
    ...(backendInfo ? { backendInfo } : {}),
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
