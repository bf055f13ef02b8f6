import type { ResolvedConfig } from '../core/config.ts'
import { withTimeout } from '../core/abort.ts'
import { formatMs } from '../core/duration.ts'
import { InferbenchError, serializeError } from '../core/errors.ts'
import { collectFingerprint } from '../core/fingerprint.ts'
import { INFERBENCH_VERSION } from './version.ts'
import type { Job } from '../core/plan.ts'
import type { PluginRegistry, Reporter } from '../core/plugin.ts'
import type { JobReport, JobStatus, RunReport } from '../core/report.ts'
import type { SuiteNode } from '../core/tree.ts'
import { runFunctionJob } from './function-job.ts'
import type { JobContext } from './job-context.ts'
import { reportBase } from './report-base.ts'
import { runServingJob } from './serving-job.ts'

export interface LocalRunOptions {
  jobs: readonly Job[]
  registry: PluginRegistry
  config: ResolvedConfig
  reporters: readonly Reporter[]
  signal?: AbortSignal
}

/** Runs jobs one after another in this process: hooks, timeouts, --bail, reporters. */
export async function runLocal(options: LocalRunOptions): Promise<RunReport> {
  const { jobs, config, reporters } = options
  const startedAt = new Date()
  const versions: Record<string, string> = {}
  const reports: JobReport[] = []
  const controller = new AbortController()
  const onAbort = () => controller.abort(options.signal?.reason)
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort)
  const hooks = new HookTracker(jobs)
  let failures = 0
  let stoppedEarly: string | undefined

  for (const reporter of reporters) await reporter.onRunStart?.(jobs)
  for (const job of jobs) {
    if (!job.skip && !stoppedEarly && controller.signal.aborted) stoppedEarly = 'interrupted'
    const skipReason = job.skip ?? (stoppedEarly ? `not run: ${stoppedEarly}` : undefined)
    let report: JobReport
    if (skipReason) {
      report = { ...reportBase(job), status: 'skipped', reason: skipReason }
    } else {
      for (const reporter of reporters) await reporter.onJobStart?.(job)
      report = await runWithHooks(job, hooks, () => runOne(job, {
        registry: options.registry, config, signal: controller.signal, versions,
        onProgress: (j, p) => { for (const reporter of reporters) void reporter.onJobProgress?.(j, p) },
      }))
    }
    reports.push(report)
    for (const reporter of reporters) await reporter.onJobEnd?.(job, report)
    if (report.status === 'failed' || report.status === 'errored') failures++
    if (config.bail > 0 && failures >= config.bail && !stoppedEarly) stoppedEarly = `--bail after ${failures} failed job${failures > 1 ? 's' : ''}`
  }
  options.signal?.removeEventListener('abort', onAbort)
  try {
    await hooks.finish()
  } catch (error) {
    process.emitWarning(`inferbench: ${(error as Error).message}`)
  }

  const finishedAt = new Date()
  const counts: Record<JobStatus, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const r of reports) counts[r.status]++
  const run: RunReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    fingerprint: collectFingerprint(config.root, INFERBENCH_VERSION, versions),
    jobs: reports,
    counts,
    ...(stoppedEarly ? { stoppedEarly } : {}),
  }
  for (const reporter of reporters) await reporter.onRunEnd?.(run)
  return run
}

async function runOne(job: Job, ctx: JobContext): Promise<JobReport> {
  if (job.kind === 'serving') return runServingJob(job, ctx)
  // A function micro-benchmark runs synchronous user code: it cannot be stopped, only abandoned.
  const timeoutMs = ctx.config.measurement.jobTimeout
  const report = await withTimeout(runFunctionJob(job), timeoutMs, (): JobReport => ({
    ...reportBase(job), status: 'errored',
    error: serializeError(new InferbenchError('INFERBENCH_JOB_TIMEOUT',
      `job exceeded measurement.jobTimeout (${formatMs(timeoutMs)}); raise it or shorten the bench (time, iterations)`)),
  }))
  if (ctx.signal.aborted && report.status !== 'errored' && report.status !== 'skipped') {
    const { status: _status, ...measured } = report
    return { ...measured, status: 'errored', error: serializeError(new InferbenchError('INFERBENCH_INTERRUPTED', 'interrupted; the figures measured so far are kept')) }
  }
  return report
}

/** Runs beforeAll hooks before a suite's first job and afterAll after its last one. */
class HookTracker {
  private readonly remaining = new Map<SuiteNode, number>()
  private readonly started = new Set<SuiteNode>()
  private readonly failed = new Map<SuiteNode, unknown>()

  constructor(jobs: readonly Job[]) {
    for (const job of jobs) {
      if (job.skip) continue
      for (const suite of job.suites) this.remaining.set(suite, (this.remaining.get(suite) ?? 0) + 1)
    }
  }

  async before(job: Job): Promise<void> {
    for (const suite of job.suites) {
      if (this.failed.has(suite)) throw this.failed.get(suite)
      if (this.started.has(suite)) continue
      this.started.add(suite)
      try {
        for (const hook of suite.beforeAll) await runHook(hook, 'beforeAll', suite)
      } catch (error) {
        this.failed.set(suite, error)
        throw error
      }
    }
  }

  async after(job: Job): Promise<void> {
    for (const suite of [...job.suites].reverse()) {
      const left = (this.remaining.get(suite) ?? 1) - 1
      this.remaining.set(suite, left)
      if (left === 0 && this.started.has(suite)) for (const hook of suite.afterAll) await runHook(hook, 'afterAll', suite)
    }
  }

  /** After an early stop: afterAll of every suite that started and did not finish. */
  async finish(): Promise<void> {
    for (const suite of [...this.started].reverse()) {
      if ((this.remaining.get(suite) ?? 0) > 0) {
        this.remaining.set(suite, 0)
        for (const hook of suite.afterAll) await runHook(hook, 'afterAll', suite)
      }
    }
  }
}

async function runHook(hook: () => unknown, kind: string, suite: SuiteNode): Promise<void> {
  try {
    await hook()
  } catch (error) {
    throw new InferbenchError('INFERBENCH_HOOK_FAILED',
      `${kind} of ${suite.name ? `describe('${suite.name}')` : 'the file'} in ${suite.file}: ${(error as Error).message}`, { cause: error })
  }
}

async function runWithHooks(job: Job, hooks: HookTracker, body: () => Promise<JobReport>): Promise<JobReport> {
  let report: JobReport
  try {
    await hooks.before(job)
    report = await body()
  } catch (error) {
    report = { ...reportBase(job), status: 'errored', error: serializeError(error) }
  }
  try {
    await hooks.after(job)
  } catch (error) {
    if (report.status !== 'errored') report = { ...reportBase(job), ...report, status: 'errored', error: serializeError(error) }
  }
  return report
}
