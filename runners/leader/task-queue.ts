import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { InferbenchError } from '../../core/errors.ts'
import { placeJob, type WorkerLoad } from '../../core/schedule/policies.ts'

export type JobState = 'queued' | 'leased' | 'done' | 'failed' | 'cancelled'

export interface QueueOptions {
  /** A claimed job goes back to the queue when its follower has not renewed it for this long. */
  leaseMs: number
  /** A follower not heard from for this long is gone: its assigned jobs are placed again. */
  deadAfterMs: number
  /** Attempts before a job is failed with every reason it was given back. */
  maxAttempts: number
}

export interface PlannedJob {
  jobId: string
  name: string
  suiteName: string
  estimateMs: number
  /** What a follower must offer to run it; absent: any follower. */
  needs?: JobNeeds
}

/** A job's demands on the machine that runs it. */
export interface JobNeeds {
  backend: string
  gpu: boolean
}

/** What a follower offers: its registered backends (undefined: it did not say, so anything) and GPUs. */
export interface Capabilities {
  backends?: readonly string[]
  gpus: number
}

export interface ClaimedJob {
  taskId: string
  jobId: string
  suiteName: string
  suiteYaml: string
  attempt: number
  estimateMs: number
}

interface JobRow {
  task_id: string
  job_id: string
  name: string
  suite_name: string
  estimate_ms: number
  seq: number
  backend: string
  needs_gpu: number
  state: JobState
  assigned: string | null
  leased_by: string | null
  lease_expires: number | null
  leased_at: number | null
  attempts: number
  errors: string
  /** The stored result's status: passed, failed (an SLO or check) or errored. */
  verdict: string | null
}

/**
 * The leader's durable job queue, in SQLite beside its PerfDB: tasks, their jobs with leases, and
 * the followers. Tier 1 of the scheduler places each queued job on the live follower with the least
 * outstanding work (qa); tier 2 hands a claiming follower its own jobs shortest first (sjf), and an
 * idle one the shortest job queued anywhere. A
 * claim is a lease: a follower that stops renewing it loses the job back to the queue, and a job
 * given back `maxAttempts` times fails with every reason. Everything survives a leader restart.
 */
export class TaskQueue {
  /**
   * When each follower was last heard from, in memory: a heartbeat writes nothing unless its
   * follower holds a lease. After a restart every follower is unknown until it registers again.
   */
  private readonly seen = new Map<string, { lastSeen: number; queuedSeconds: number; capabilities: Capabilities }>()

  private constructor(private readonly db: Database.Database, private readonly options: QueueOptions) {}

  static open(path: string, options: QueueOptions): TaskQueue {
    const db = new Database(path, { timeout: 10_000 })
    db.pragma('journal_mode = WAL')
    // NORMAL with WAL: a commit survives the leader crashing (what the queue must survive), and
    // costs no fsync per heartbeat or claim; only a power cut can lose the last moments.
    db.pragma('synchronous = NORMAL')
    db.exec(`
      CREATE TABLE IF NOT EXISTS leader_tasks (id TEXT PRIMARY KEY, user TEXT NOT NULL, submitted_at TEXT NOT NULL, suites TEXT NOT NULL, run_id INTEGER, finished INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS leader_jobs (
        task_id TEXT NOT NULL REFERENCES leader_tasks(id), job_id TEXT NOT NULL, name TEXT NOT NULL, suite_name TEXT NOT NULL,
        estimate_ms REAL NOT NULL, seq INTEGER NOT NULL, backend TEXT NOT NULL DEFAULT '', needs_gpu INTEGER NOT NULL DEFAULT 0,
        state TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'done', 'failed', 'cancelled')),
        assigned TEXT, leased_by TEXT, lease_expires INTEGER, leased_at INTEGER, attempts INTEGER NOT NULL DEFAULT 0, errors TEXT NOT NULL DEFAULT '[]', verdict TEXT,
        PRIMARY KEY (task_id, job_id));
      CREATE TABLE IF NOT EXISTS leader_followers (id TEXT PRIMARY KEY, name TEXT NOT NULL, fingerprint TEXT NOT NULL, registered_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS leader_jobs_queued ON leader_jobs (state, assigned, estimate_ms, seq);
      CREATE INDEX IF NOT EXISTS leader_jobs_leases ON leader_jobs (state, lease_expires);
      CREATE INDEX IF NOT EXISTS leader_jobs_holder ON leader_jobs (leased_by, state);
    `)
    // A queue written before jobs carried their needs: its jobs ask for nothing.
    const columns = (db.prepare('PRAGMA table_info(leader_jobs)').all() as Array<{ name: string }>).map((c) => c.name)
    if (!columns.includes('backend')) db.exec("ALTER TABLE leader_jobs ADD COLUMN backend TEXT NOT NULL DEFAULT ''; ALTER TABLE leader_jobs ADD COLUMN needs_gpu INTEGER NOT NULL DEFAULT 0")
    if (!columns.includes('verdict')) db.exec('ALTER TABLE leader_jobs ADD COLUMN verdict TEXT')
    return new TaskQueue(db, options)
  }

  close(): void {
    this.db.close()
  }

  submit(user: string, suites: Array<{ name: string; yaml: string }>, jobs: PlannedJob[], now: number, runId?: number): string {
    const id = randomUUID().slice(0, 8)
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO leader_tasks (id, user, submitted_at, suites, run_id) VALUES (?, ?, ?, ?, ?)').run(id, user, new Date(now).toISOString(), JSON.stringify(suites), runId ?? null)
      const insert = this.db.prepare("INSERT INTO leader_jobs (task_id, job_id, name, suite_name, estimate_ms, seq, backend, needs_gpu, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued')")
      const seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM leader_jobs').get() as { s: number }).s
      jobs.forEach((j, i) => insert.run(id, j.jobId, j.name, j.suiteName, j.estimateMs, seq + i + 1, j.needs?.backend ?? '', j.needs?.gpu ? 1 : 0))
      this.place(now)
    }).immediate()
    return id
  }

  register(name: string, fingerprintJson: string, now: number, capabilities: Capabilities = { gpus: 0 }): string {
    const id = `${name}-${randomUUID().slice(0, 6)}`
    this.db.prepare('INSERT INTO leader_followers (id, name, fingerprint, registered_at) VALUES (?, ?, ?, ?)').run(id, name, fingerprintJson, now)
    this.seen.set(id, { lastSeen: now, queuedSeconds: 0, capabilities })
    return id
  }

  /** Which jobs a follower's registered capabilities let it run, as an SQL condition on leader_jobs and its parameters. */
  private runnableBy(capabilities: Capabilities): { sql: string; params: Array<string | number> } {
    const backends = capabilities.backends === undefined ? '' : " AND (backend = '' OR backend IN (SELECT value FROM json_each(?)))"
    return { sql: `(needs_gpu = 0 OR ? > 0)${backends}`, params: [capabilities.gpus, ...(capabilities.backends === undefined ? [] : [JSON.stringify(capabilities.backends)])] }
  }

  private alive(now: number): string[] {
    return [...this.seen].filter(([, f]) => f.lastSeen >= now - this.options.deadAfterMs).map(([id]) => id)
  }

  /** A follower's heartbeat: it is alive, its leases are renewed; the jobs it must stop (cancelled) are returned. */
  heartbeat(followerId: string, queuedSeconds: number, now: number): { known: boolean; cancel: string[] } {
    const follower = this.seen.get(followerId)
    if (!follower) return { known: false, cancel: [] }
    follower.lastSeen = now
    follower.queuedSeconds = queuedSeconds
    const held = this.db.prepare("SELECT job_id, state, lease_expires FROM leader_jobs WHERE leased_by = ? AND state IN ('leased', 'cancelled') AND lease_expires IS NOT NULL").all(followerId) as Array<{ job_id: string; state: JobState }>
    if (held.length === 0) return { known: true, cancel: [] }
    return this.db.transaction(() => {
      this.db.prepare("UPDATE leader_jobs SET lease_expires = ? WHERE leased_by = ? AND state = 'leased'").run(now + this.options.leaseMs, followerId)
      this.db.prepare("UPDATE leader_jobs SET lease_expires = NULL WHERE leased_by = ? AND state = 'cancelled'").run(followerId)
      return { known: true, cancel: held.filter((h) => h.state === 'cancelled').map((h) => h.job_id) }
    }).immediate()
  }

  /** The next job for a follower: its own shortest first, else any unplaced one; leased to it. */
  claim(followerId: string, now: number): ClaimedJob | undefined {
    return this.db.transaction(() => {
      const follower = this.seen.get(followerId)
      if (!follower) throw new InferbenchError('INFERBENCH_USAGE', `unknown follower ${followerId}: register first (a restarted leader forgets followers until they register again)`)
      follower.lastSeen = now
      this.expire(now)
      this.place(now)
      // Its own jobs first, then unplaced ones; an idle follower that joined after the placement
      // takes the shortest job waiting behind another follower's (placements are made as jobs
      // arrive, and an idle follower must not watch a queue it could shorten).
      // Placement already matched its own jobs to what it offers; the others are matched here.
      const can = this.runnableBy(follower.capabilities)
      const row = (this.db.prepare("SELECT * FROM leader_jobs WHERE state = 'queued' AND assigned = ? ORDER BY estimate_ms, seq LIMIT 1").get(followerId)
        ?? this.db.prepare(`SELECT * FROM leader_jobs WHERE state = 'queued' AND assigned IS NULL AND ${can.sql} ORDER BY estimate_ms, seq LIMIT 1`).get(...can.params)
        ?? this.db.prepare(`SELECT * FROM leader_jobs WHERE state = 'queued' AND ${can.sql} ORDER BY estimate_ms, seq LIMIT 1`).get(...can.params)) as JobRow | undefined
      if (!row) return undefined
      this.db.prepare("UPDATE leader_jobs SET state = 'leased', assigned = ?, leased_by = ?, leased_at = ?, lease_expires = ?, attempts = attempts + 1 WHERE task_id = ? AND job_id = ?")
        .run(followerId, followerId, now, now + this.options.leaseMs, row.task_id, row.job_id)
      const suites = JSON.parse((this.db.prepare('SELECT suites FROM leader_tasks WHERE id = ?').get(row.task_id) as { suites: string }).suites) as Array<{ name: string; yaml: string }>
      return { taskId: row.task_id, jobId: row.job_id, suiteName: row.suite_name, suiteYaml: suites.find((s) => s.name === row.suite_name)!.yaml, attempt: row.attempts + 1, estimateMs: row.estimate_ms }
    }).immediate()
  }

  /**
   * A result, stored once: only from the follower holding the job's current lease (a follower that
   * lost its lease and reports late is told so, and nothing is stored twice).
   */
  complete(followerId: string, taskId: string, jobId: string, attempt: number, verdict: 'passed' | 'failed' | 'errored', error?: string): { stored: boolean; why?: string } {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM leader_jobs WHERE task_id = ? AND job_id = ?').get(taskId, jobId) as JobRow | undefined
      if (!row) return { stored: false, why: `no job ${jobId} in task ${taskId}` }
      if (row.state === 'done' || row.state === 'failed') return { stored: false, why: 'already stored' }
      if (row.state === 'cancelled') return { stored: false, why: 'the task was cancelled' }
      if (row.state !== 'leased' || row.leased_by !== followerId || row.attempts !== attempt) return { stored: false, why: 'the lease was lost: the job was given to another follower' }
      const errors = error ? JSON.stringify([...JSON.parse(row.errors) as string[], error]) : row.errors
      this.db.prepare('UPDATE leader_jobs SET state = ?, verdict = ?, lease_expires = NULL, errors = ? WHERE task_id = ? AND job_id = ?').run(verdict === 'errored' ? 'failed' : 'done', verdict, errors, taskId, jobId)
      return { stored: true }
    }).immediate()
  }

  /** A stopping follower's job back to the queue now, its attempt not counted; false when it no longer holds the lease. */
  release(followerId: string, taskId: string, jobId: string, attempt: number): boolean {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT * FROM leader_jobs WHERE task_id = ? AND job_id = ?').get(taskId, jobId) as JobRow | undefined
      if (!row || row.state !== 'leased' || row.leased_by !== followerId || row.attempts !== attempt) return false
      const errors = JSON.stringify([...JSON.parse(row.errors) as string[], `follower ${followerId} stopped and gave the job back (not counted as an attempt)`])
      this.db.prepare("UPDATE leader_jobs SET state = 'queued', assigned = NULL, leased_by = NULL, lease_expires = NULL, attempts = attempts - 1, errors = ? WHERE task_id = ? AND job_id = ?").run(errors, taskId, jobId)
      return true
    }).immediate()
  }

  cancel(taskId: string): number {
    return this.db.prepare("UPDATE leader_jobs SET state = 'cancelled' WHERE task_id = ? AND state IN ('queued', 'leased')").run(taskId).changes
  }

  /** Leases that ran out go back to the queue (or fail after maxAttempts); gone followers lose their placements. */
  expire(now: number): void {
    const expired = this.db.prepare("SELECT * FROM leader_jobs WHERE state = 'leased' AND lease_expires < ?").all(now) as JobRow[]
    for (const row of expired) {
      const errors = JSON.stringify([...JSON.parse(row.errors) as string[], `attempt ${row.attempts}: follower ${row.leased_by} stopped renewing its lease`])
      const state = row.attempts >= this.options.maxAttempts ? 'failed' : 'queued'
      this.db.prepare('UPDATE leader_jobs SET state = ?, assigned = NULL, leased_by = NULL, lease_expires = NULL, errors = ? WHERE task_id = ? AND job_id = ?').run(state, errors, row.task_id, row.job_id)
    }
    const alive = new Set(this.alive(now))
    const placedOn = this.db.prepare("SELECT DISTINCT assigned FROM leader_jobs WHERE state = 'queued' AND assigned IS NOT NULL").all() as Array<{ assigned: string }>
    for (const { assigned } of placedOn) if (!alive.has(assigned)) this.db.prepare("UPDATE leader_jobs SET assigned = NULL WHERE state = 'queued' AND assigned = ?").run(assigned)
  }

  /**
   * Tier 1: every queued, unplaced job onto the live follower with the least outstanding work
   * among those that can run it; a job no live follower can run waits unplaced.
   */
  private place(now: number): void {
    const unplaced = this.db.prepare("SELECT task_id, job_id, estimate_ms, backend, needs_gpu FROM leader_jobs WHERE state = 'queued' AND assigned IS NULL ORDER BY seq").all() as Array<Pick<JobRow, 'task_id' | 'job_id' | 'estimate_ms' | 'backend' | 'needs_gpu'>>
    if (unplaced.length === 0) return
    const alive = this.alive(now)
    if (alive.length === 0) return
    const queued = new Map((this.db.prepare("SELECT assigned, COUNT(*) AS n, SUM(estimate_ms) AS ms FROM leader_jobs WHERE state = 'queued' AND assigned IS NOT NULL GROUP BY assigned").all() as Array<{ assigned: string; n: number; ms: number }>).map((r) => [r.assigned, r]))
    const running = new Map((this.db.prepare("SELECT leased_by, leased_at, estimate_ms FROM leader_jobs WHERE state = 'leased'").all() as Array<{ leased_by: string; leased_at: number; estimate_ms: number }>).map((r) => [r.leased_by, r]))
    const loads: WorkerLoad[] = alive.map((id) => {
      const q = queued.get(id)
      const r = running.get(id)
      return { jobs: (q?.n ?? 0) + (r ? 1 : 0), queuedSeconds: (q?.ms ?? 0) / 1000, runningEstimatedEnd: r ? (r.leased_at + r.estimate_ms) / 1000 : Number.NEGATIVE_INFINITY }
    })
    const assign = this.db.prepare('UPDATE leader_jobs SET assigned = ? WHERE task_id = ? AND job_id = ?')
    const capabilities = alive.map((id) => this.seen.get(id)!.capabilities)
    unplaced.forEach((job, i) => {
      const able = alive.map((_, w) => w).filter((w) => canRun(capabilities[w]!, job))
      if (able.length === 0) return
      const w = able[placeJob('qa', able.map((a) => loads[a]!), now / 1000, i)]!
      assign.run(alive[w]!, job.task_id, job.job_id)
      loads[w]!.jobs++
      loads[w]!.queuedSeconds += job.estimate_ms / 1000
    })
  }

  /** Why a queued job has no follower, or undefined when a live one can run it. */
  private waiting(job: Pick<JobRow, 'backend' | 'needs_gpu'>, now: number): string | undefined {
    const live = this.alive(now).map((id) => this.seen.get(id)!.capabilities)
    if (live.some((c) => canRun(c, job))) return undefined
    if (live.length === 0) return 'no live follower'
    const wants = [job.backend ? `backend '${job.backend}'` : '', job.needs_gpu ? 'a GPU' : ''].filter(Boolean).join(' and ')
    return `no live follower offers ${wants}`
  }

  status(taskId: string | undefined, now: number): { tasks: TaskView[]; followers: Array<{ id: string; name: string; lastSeen: number; queuedSeconds: number; capabilities: Capabilities }> } {
    const tasks = (taskId
      ? this.db.prepare('SELECT * FROM leader_tasks WHERE id = ?').all(taskId)
      : this.db.prepare('SELECT * FROM leader_tasks ORDER BY submitted_at DESC LIMIT 50').all()) as Array<{ id: string; user: string; submitted_at: string; run_id: number | null }>
    const views = tasks.map((t) => {
      const jobs = this.db.prepare('SELECT * FROM leader_jobs WHERE task_id = ? ORDER BY seq').all(t.id) as JobRow[]
      return {
        taskId: t.id, user: t.user, submittedAt: t.submitted_at, runId: t.run_id ?? undefined, state: taskState(jobs),
        jobs: jobs.map((j) => {
          const waiting = j.state === 'queued' && !j.assigned ? this.waiting(j, now) : undefined
          return { jobId: j.job_id, name: j.name, state: j.state, verdict: j.verdict ?? '', follower: j.leased_by ?? j.assigned ?? '', attempts: j.attempts, errors: JSON.parse(j.errors) as string[], estimateMs: j.estimate_ms, ...(waiting ? { waiting } : {}) }
        }),
      }
    })
    const followers = (this.db.prepare('SELECT id, name FROM leader_followers ORDER BY rowid').all() as Array<{ id: string; name: string }>)
      .filter((f) => this.seen.has(f.id))
      .map((f) => ({ id: f.id, name: f.name, ...this.seen.get(f.id)! }))
    return { tasks: views, followers }
  }

  runOf(taskId: string): number | undefined {
    return (this.db.prepare('SELECT run_id FROM leader_tasks WHERE id = ?').get(taskId) as { run_id: number | null } | undefined)?.run_id ?? undefined
  }

  /** Tasks whose every job has ended and whose run is not closed yet; marks them closed. */
  finishedTasks(): Array<{ taskId: string; runId: number | undefined }> {
    const open = this.db.prepare('SELECT id, run_id FROM leader_tasks WHERE finished = 0').all() as Array<{ id: string; run_id: number | null }>
    const done: Array<{ taskId: string; runId: number | undefined }> = []
    for (const t of open) {
      const left = (this.db.prepare("SELECT COUNT(*) AS n FROM leader_jobs WHERE task_id = ? AND state IN ('queued', 'leased')").get(t.id) as { n: number }).n
      if (left > 0) continue
      this.db.prepare('UPDATE leader_tasks SET finished = 1 WHERE id = ?').run(t.id)
      done.push({ taskId: t.id, runId: t.run_id ?? undefined })
    }
    return done
  }
}

export interface TaskView {
  taskId: string
  user: string
  submittedAt: string
  runId: number | undefined
  state: string
  jobs: Array<{ jobId: string; name: string; state: JobState; verdict: string; follower: string; attempts: number; errors: string[]; estimateMs: number; waiting?: string }>
}

function canRun(follower: Capabilities, job: Pick<JobRow, 'backend' | 'needs_gpu'>): boolean {
  return (!job.needs_gpu || follower.gpus > 0) && (!job.backend || follower.backends === undefined || follower.backends.includes(job.backend))
}

function taskState(jobs: JobRow[]): string {
  if (jobs.some((j) => j.state === 'leased')) return 'running'
  if (jobs.some((j) => j.state === 'queued')) return jobs.some((j) => j.state === 'done' || j.state === 'failed') ? 'running' : 'queued'
  if (jobs.some((j) => j.state === 'cancelled')) return 'cancelled'
  // Done means every job ran; a job that missed its SLO or errored makes the task failed.
  return jobs.some((j) => j.state === 'failed' || j.verdict === 'failed') ? 'failed' : 'done'
}
