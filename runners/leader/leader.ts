import { hostname } from 'node:os'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import type { ResolvedConfig } from '../../core/config.ts'
import { collectFile } from '../../core/collector.ts'
import { InferbenchError } from '../../core/errors.ts'
import { collectFingerprint, type Fingerprint } from '../../core/fingerprint.ts'
import { planJobs } from '../../core/plan.ts'
import type { PluginRegistry } from '../../core/plugin.ts'
import type { JobReport, JobStatus } from '../../core/report.ts'
import { PerfDb } from '../../core/store/perf-db.ts'
import { collectYamlSuite } from '../../core/yaml-suite.ts'
import { INFERBENCH_VERSION } from '../version.ts'
import { loadLeaderService } from './service.ts'
import { jobNeeds } from './job-needs.ts'
import { TaskQueue, type PlannedJob } from './task-queue.ts'

/** Where submitted suites are planned: a folder name, the same on the leader and every follower, so job ids agree. */
export const TASK_ROOT = '/inferbench-task'
const SUITE_NAME = /^[\w.-]+\.bench\.ya?ml$/

export interface LeaderOptions {
  host: string
  port: number
  /** The PerfDB: results land there, and the queue lives beside them in the same file. */
  dbPath: string
  config: ResolvedConfig
  registry: PluginRegistry
  /** INFERBENCH_TOKEN: every caller must present it. Without one the leader listens on loopback only. */
  token?: string
  /** PEM certificate chain and key: the leader speaks TLS (clients trust it with INFERBENCH_TLS_CA). */
  tls?: { cert: Buffer; key: Buffer }
  heartbeatMs?: number
  leaseMs?: number
  maxAttempts?: number
}

export interface RunningLeader {
  port: number
  queue: TaskQueue
  stop(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * `inferbench leader`: a gRPC service (runners/leader/leader.proto) over the durable task queue.
 * It plans submitted YAML suites (data, never code) with its own plugins, places their jobs on
 * followers (tier 1), hands each claiming follower its shortest job (tier 2), takes jobs back from
 * followers that stop heartbeating, and stores each result once in its PerfDB, a run per task.
 */
export async function startLeader(options: LeaderOptions): Promise<RunningLeader> {
  if (!options.token && !LOOPBACK.has(options.host)) {
    throw new InferbenchError('INFERBENCH_USAGE', `leader: without INFERBENCH_TOKEN the leader listens on loopback only; set a token to listen on ${options.host}`)
  }
  const heartbeatMs = options.heartbeatMs ?? 2000
  const leaseMs = options.leaseMs ?? Math.max(3 * heartbeatMs, 5000)
  const queue = TaskQueue.open(options.dbPath, { leaseMs, deadAfterMs: leaseMs, maxAttempts: options.maxAttempts ?? 3 })
  const perfDb = PerfDb.open(options.dbPath)
  const fingerprint = collectFingerprint(options.config.root, INFERBENCH_VERSION, {})

  const authorized = (call: grpc.ServerUnaryCall<unknown, unknown>): boolean => !options.token || call.metadata.get('authorization')[0] === `Bearer ${options.token}`
  const handle = <Req, Res>(fn: (req: Req) => Res | Promise<Res>) => (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    if (!authorized(call as grpc.ServerUnaryCall<unknown, unknown>)) return callback({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong token (INFERBENCH_TOKEN)' })
    Promise.resolve().then(() => fn(call.request)).then((res) => callback(null, res), (error: unknown) => {
      const usage = error instanceof InferbenchError && ['INFERBENCH_BENCH_INVALID', 'INFERBENCH_USAGE', 'INFERBENCH_PLUGIN_MISSING'].includes(error.code)
      callback({ code: usage ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL, details: (error as Error).message })
    })
  }

  const server = new grpc.Server()
  server.addService(loadLeaderService().service, {
    Submit: handle(async (req: { user: string; suites: Array<{ name: string; yaml: string }> }) => {
      if (req.suites.length === 0) throw new InferbenchError('INFERBENCH_USAGE', 'submit: no suites')
      const jobs = (await planSubmission(req.suites, options)).map((j) => withHistory(j, perfDb))
      if (jobs.length === 0) throw new InferbenchError('INFERBENCH_BENCH_INVALID', 'submit: the suites plan no job to run (all skipped?)')
      const runId = perfDb.beginRun({ startedAt: new Date().toISOString(), fingerprint, source: `leader:${req.user || 'unknown'}` })
      perfDb.detachRun(runId)
      const now = Date.now()
      const taskId = queue.submit(req.user || 'unknown', req.suites, jobs, now, runId)
      return { taskId, jobIds: jobs.map((j) => j.jobId), estimateMs: jobs.reduce((a, j) => a + j.estimateMs, 0), warnings: waitingReasons(queue, taskId, now) }
    }),
    Status: handle((req: { taskId: string }) => {
      const now = Date.now()
      const s = queue.status(req.taskId || undefined, now)
      if (req.taskId && s.tasks.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `no task ${req.taskId}`)
      return {
        tasks: s.tasks.map((t) => ({ ...t, runId: t.runId ?? 0, jobs: t.jobs.map((j) => ({ ...j, error: j.errors.join('; ') })) })),
        followers: s.followers.map((f) => ({ followerId: f.id, name: f.name, lastSeen: new Date(f.lastSeen).toISOString(), alive: now - f.lastSeen < leaseMs, queuedSeconds: f.queuedSeconds, backends: f.capabilities.backends ?? [], gpus: f.capabilities.gpus })),
      }
    }),
    Cancel: handle((req: { taskId: string }) => ({ cancelled: queue.cancel(req.taskId) })),
    Register: handle((req: { name: string; fingerprintJson: string; backends: string[]; gpus: number }) => {
      const capabilities = { ...(req.backends.length ? { backends: req.backends } : {}), gpus: req.gpus }
      return { followerId: queue.register(req.name || 'follower', req.fingerprintJson || '{}', Date.now(), capabilities), heartbeatMs, leaseMs }
    }),
    Heartbeat: handle((req: { followerId: string; queuedSeconds: number }) => {
      const r = queue.heartbeat(req.followerId, req.queuedSeconds, Date.now())
      return { cancelJobs: r.cancel, known: r.known }
    }),
    Claim: handle((req: { followerId: string }) => {
      const job = queue.claim(req.followerId, Date.now())
      return job ? { hasJob: true, ...job } : { hasJob: false }
    }),
    Report: handle((req: { followerId: string; taskId: string; jobId: string; attempt: number; reportJson: string }) => {
      let report: JobReport
      try {
        report = JSON.parse(req.reportJson) as JobReport
      } catch {
        throw new InferbenchError('INFERBENCH_USAGE', `report of job ${req.jobId}: not JSON`)
      }
      if (report.id !== req.jobId) throw new InferbenchError('INFERBENCH_USAGE', `report of job ${req.jobId} carries job ${report.id}`)
      if (report.status === 'skipped') throw new InferbenchError('INFERBENCH_USAGE', `report of job ${req.jobId}: a skipped job is not a result`)
      const r = queue.complete(req.followerId, req.taskId, req.jobId, req.attempt, report.status, report.status === 'errored' ? `attempt ${req.attempt} on ${req.followerId}: ${report.error.message}` : undefined)
      if (r.stored) {
        const runId = queue.runOf(req.taskId)
        if (runId !== undefined) perfDb.recordJob(runId, report)
      }
      return { stored: r.stored, why: r.why ?? '' }
    }),
    Release: handle((req: { followerId: string; taskId: string; jobId: string; attempt: number }) => ({ released: queue.release(req.followerId, req.taskId, req.jobId, req.attempt) })),
  })
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`, options.tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false) : grpc.ServerCredentials.createInsecure(), (error, bound) => {
    if (error) reject(new InferbenchError('INFERBENCH_SERVE_FAILED', `leader: cannot listen on ${options.host}:${options.port}: ${error.message}`))
    else resolve(bound)
  }))
  // Leases run out and tasks finish between calls too: checked every heartbeat interval.
  const sweep = setInterval(() => {
    queue.expire(Date.now())
    for (const t of queue.finishedTasks()) if (t.runId !== undefined) closeRun(perfDb, t.runId, fingerprint)
  }, heartbeatMs)
  sweep.unref()
  return {
    port, queue,
    async stop() {
      clearInterval(sweep)
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
      queue.close()
      perfDb.close()
    },
  }
}

/** Plans the submitted suites as the leader's config and plugins see them; the jobs that will run. */
async function planSubmission(suites: Array<{ name: string; yaml: string }>, options: LeaderOptions): Promise<PlannedJob[]> {
  const roots = []
  for (const [i, suite] of suites.entries()) {
    if (suites.findIndex((s) => s.name === suite.name) !== i) throw new InferbenchError('INFERBENCH_USAGE', `submit: two suites are named ${suite.name}`)
    if (!SUITE_NAME.test(suite.name)) throw new InferbenchError('INFERBENCH_USAGE', `submit: '${suite.name}' is not a suite file name like resnet.bench.yaml`)
    const file = join(TASK_ROOT, suite.name)
    roots.push(await collectFile(file, async () => collectYamlSuite(file, suite.name.replace(/\.bench\.ya?ml$/, ''), suite.yaml)))
  }
  const jobs = planJobs(roots, { root: TASK_ROOT, registry: options.registry, defaults: options.config.defaults, axes: options.config.axes, repositoryDir: options.config.repository })
  return jobs.filter((j) => !j.skip).map((j) => {
    const needs = jobNeeds(j)
    return { jobId: j.id, name: j.fullName, suiteName: j.file.slice(TASK_ROOT.length + 1), estimateMs: j.estimateMs, ...(needs ? { needs } : {}) }
  })
}

/** Jobs of a new task that no live follower can take yet, counted by reason: the submitter should know now. */
function waitingReasons(queue: TaskQueue, taskId: string, now: number): string[] {
  const counts = new Map<string, number>()
  for (const j of queue.status(taskId, now).tasks[0]?.jobs ?? []) if (j.waiting) counts.set(j.waiting, (counts.get(j.waiting) ?? 0) + 1)
  return [...counts].map(([why, n]) => `${n} job${n === 1 ? '' : 's'} wait${n === 1 ? 's' : ''}: ${why}`)
}

/**
 * A job that ran before (same id in this PerfDB) is estimated by the median of its latest
 * durations, not by its workload's nominal length: cold starts and slow warm-ups are in there.
 */
function withHistory(job: PlannedJob, db: PerfDb): PlannedJob {
  const past = db.jobDurations(job.jobId).sort((a, b) => a - b)
  return past.length ? { ...job, estimateMs: past[Math.floor(past.length / 2)]! } : job
}

function closeRun(db: PerfDb, runId: number, fingerprint: Fingerprint): void {
  const counts: Record<JobStatus, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const j of db.jobs(runId)) counts[j.status]++
  db.endRun(runId, { finishedAt: new Date().toISOString(), counts, fingerprint: { ...fingerprint, hostname: hostname() } })
}
