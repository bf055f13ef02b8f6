import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { serializeError, InferbenchError } from '../core/errors.ts'
import { loadConfig } from '../core/config.ts'
import { collectFingerprint, type Fingerprint } from '../core/fingerprint.ts'
import { createRegistry } from '../core/plugin.ts'
import { withBuiltinPlugins } from './builtin-plugins.ts'
import type { JobReport } from '../core/report.ts'
import { TASK_ROOT } from './leader/leader.ts'
import { leaderClient } from './leader/service.ts'
import { runLocal } from './local.ts'
import { INFERBENCH_VERSION } from './version.ts'
import { prepareRun } from './prepare-run.ts'

export interface FollowerOptions {
  leader: string
  name?: string
  /** The follower's own config (plugins, measurement.idle, cost): its machine's settings. */
  configFile?: string
  cwd: string
  signal: AbortSignal
  /** How long to wait before asking again when the queue is empty. */
  pollMs?: number
  log?: (line: string) => void
}

interface Claim { hasJob: boolean; taskId: string; jobId: string; suiteName: string; suiteYaml: string; attempt: number; estimateMs: number }

/**
 * `inferbench follower`: registers with the leader (its fingerprint), heartbeats, and runs one
 * job at a time — claimed from the leader, planned from the submitted suite exactly as the leader
 * planned it, run with this machine's config (its idle check included) — and reports each result.
 * A job the leader cancels is stopped at the next heartbeat.
 */
export async function runFollower(options: FollowerOptions): Promise<void> {
  const log = options.log ?? (() => {})
  const client = leaderClient(options.leader)
  const fingerprint = collectFingerprint(options.cwd, INFERBENCH_VERSION, {})
  const name = options.name ?? hostname()
  const capabilities = await followerCapabilities(options, fingerprint)
  const register = async () => {
    const r = await client.call<{ followerId: string; heartbeatMs: number }>('Register', { name, fingerprintJson: JSON.stringify(fingerprint), ...capabilities })
    log(`follower ${r.followerId} registered with ${options.leader}: backends ${capabilities.backends.join(', ')}; ${capabilities.gpus} GPU${capabilities.gpus === 1 ? '' : 's'}`)
    return r
  }
  let { followerId, heartbeatMs } = await registerWhenUp(register, options.signal, log)
  let current: { jobId: string; controller: AbortController; estimateMs: number } | undefined
  const beat = setInterval(() => {
    client.call<{ cancelJobs: string[]; known: boolean }>('Heartbeat', { followerId, queuedSeconds: current ? current.estimateMs / 1000 : 0, runningJob: current?.jobId ?? '' }, heartbeatMs)
      .then(async (r) => {
        if (current && r.cancelJobs.includes(current.jobId)) current.controller.abort('cancelled by the leader')
        // A restarted leader does not know us: register again (a running job's lease is gone; its result will be refused).
        if (!r.known) ({ followerId, heartbeatMs } = await register())
      })
      .catch((error: unknown) => log(`heartbeat failed: ${(error as Error).message}`))
  }, heartbeatMs)
  const work = mkdtempSync(join(tmpdir(), 'inferbench-follower-'))
  try {
    while (!options.signal.aborted) {
      let claim: Claim
      try {
        claim = await client.call<Claim>('Claim', { followerId })
      } catch (error) {
        log(`claim failed: ${(error as Error).message}`)
        if (/unknown follower/.test((error as Error).message)) ({ followerId, heartbeatMs } = await register().catch(() => ({ followerId, heartbeatMs })))
        await sleep(options.pollMs ?? 1000, options.signal)
        continue
      }
      if (!claim.hasJob) {
        await sleep(options.pollMs ?? 1000, options.signal)
        continue
      }
      const controller = new AbortController()
      const onStop = () => controller.abort('follower stopping')
      options.signal.addEventListener('abort', onStop, { once: true })
      current = { jobId: claim.jobId, controller, estimateMs: claim.estimateMs }
      log(`running ${claim.jobId} of task ${claim.taskId} (attempt ${claim.attempt})`)
      const report = await runClaimed(claim, work, options, controller.signal)
      options.signal.removeEventListener('abort', onStop)
      current = undefined
      if (options.signal.aborted) {
        // Stopping (SIGTERM, a scale-down): the job goes back to the queue now, not when the lease runs out.
        const back = await client.call<{ released: boolean }>('Release', { followerId, taskId: claim.taskId, jobId: claim.jobId, attempt: claim.attempt }, 3000).catch(() => ({ released: false }))
        log(`stopping: ${claim.jobId} ${back.released ? 'given back to the queue' : 'left to its lease'}`)
        break
      }
      const reply = await client.call<{ stored: boolean; why: string }>('Report', {
        followerId, taskId: claim.taskId, jobId: claim.jobId, attempt: claim.attempt, reportJson: JSON.stringify(report), fingerprintJson: JSON.stringify(fingerprint),
      }).catch((error: unknown) => ({ stored: false, why: (error as Error).message }))
      log(`${claim.jobId}: ${report.status}${reply.stored ? ', stored' : `, not stored: ${reply.why}`}`)
    }
  } finally {
    clearInterval(beat)
    client.close()
    rmSync(work, { recursive: true, force: true })
  }
}

/**
 * A follower may start before its leader (a cluster coming up): it retries every 2 s until the
 * leader answers or it is stopped. A refused token is not retried: it will not get better.
 */
async function registerWhenUp<T>(register: () => Promise<T>, signal: AbortSignal, log: (line: string) => void): Promise<T> {
  let lastLog = 0
  for (;;) {
    try {
      return await register()
    } catch (error) {
      if (!(error instanceof InferbenchError) || error.code !== 'INFERBENCH_BACKEND_FAILED' || signal.aborted) throw error
      if (Date.now() - lastLog > 30_000) {
        log(`${error.message}; retrying every 2 s`)
        lastLog = Date.now()
      }
      await sleep(2000, signal)
    }
  }
}

/** What this follower offers the leader's matching: the backends its config's plugins register, and its GPUs. */
async function followerCapabilities(options: FollowerOptions, fingerprint: Fingerprint): Promise<{ backends: string[]; gpus: number }> {
  const config = await loadConfig({ cwd: options.cwd, ...(options.configFile ? { configFile: options.configFile } : {}) })
  return { backends: createRegistry(withBuiltinPlugins(config.plugins)).names('backends'), gpus: fingerprint.gpu?.devices.length ?? 0 }
}

/** Plans the suite in a folder named like the leader's (same job ids) and runs the one job. */
async function runClaimed(claim: Claim, work: string, options: FollowerOptions, signal: AbortSignal): Promise<JobReport> {
  const root = join(work, TASK_ROOT.replace(/^\//, ''), claim.taskId)
  mkdirSync(root, { recursive: true })
  const file = join(root, claim.suiteName)
  writeFileSync(file, claim.suiteYaml)
  try {
    const prepared = await prepareRun({
      cwd: options.cwd, filters: [file], ...(options.configFile ? { configFile: options.configFile } : {}),
      overrides: { root, reporters: [], perfDb: false },
    })
    const job = prepared.jobs.find((j) => j.id === claim.jobId)
    if (!job) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `job ${claim.jobId} is not in the suite as this follower plans it: its plugins, config defaults or inferbench version differ from the leader's`)
    const run = await runLocal({ jobs: [job], registry: prepared.registry, config: prepared.config, reporters: [], signal })
    return run.jobs[0]!
  } catch (error) {
    return { id: claim.jobId, suite: claim.suiteName, name: claim.jobId, file, kind: 'serving', params: {}, estimateMs: claim.estimateMs, slo: [], status: 'errored', error: serializeError(error) } satisfies JobReport
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // The listener goes when the timer fires: a follower polls for hours on one signal.
    const onAbort = () => { clearTimeout(timer); resolve() }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

