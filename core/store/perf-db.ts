import { mkdirSync } from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { InferbenchError } from '../errors.ts'
import type { Fingerprint } from '../fingerprint.ts'
import type { JobReport, JobStatus, RunReport } from '../report.ts'

export type RunStatus = 'running' | 'completed' | 'interrupted'

/** A stored run: what `inferbench history` lists. */
export interface RunRecord {
  id: number
  startedAt: string
  finishedAt?: string
  status: RunStatus
  user: string
  hostname: string
  /** 'cli', 'node-api', or 'import:<file>' for a JSON report loaded with `inferbench import`. */
  source: string
  fingerprint: Fingerprint
  counts: Record<JobStatus, number>
  stoppedEarly?: string
}

/** A stored job, with the key figures as columns (for listing) and its whole JSON report. */
export interface JobRecord {
  runId: number
  seq: number
  jobId: string
  name: string
  suite: string
  status: JobStatus
  recordedAt: string
  report: JobReport
}

export interface RunQuery {
  limit?: number
  status?: RunStatus
}

/**
 * The schema, one step per version (SQLite's user_version). A database written by an older
 * inferbench is brought up to date when opened; one written by a newer one is refused.
 */
export const MIGRATIONS: Array<(db: Database.Database) => void> = [
  // 1: runs and their jobs.
  (db) => db.exec(`
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      started_at TEXT NOT NULL,
      finished_at TEXT,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'interrupted')),
      user TEXT NOT NULL,
      hostname TEXT NOT NULL,
      pid INTEGER,
      source TEXT NOT NULL,
      git_commit TEXT,
      git_dirty INTEGER,
      fingerprint TEXT NOT NULL,
      counts TEXT,
      stopped_early TEXT
    );
    CREATE TABLE jobs (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      job_id TEXT NOT NULL,
      suite TEXT NOT NULL,
      name TEXT NOT NULL,
      file TEXT NOT NULL,
      status TEXT NOT NULL,
      p50_ms REAL,
      p99_ms REAL,
      requests_per_sec REAL,
      recorded_at TEXT NOT NULL,
      report TEXT NOT NULL,
      PRIMARY KEY (run_id, seq)
    );
    CREATE INDEX jobs_by_job_id ON jobs (job_id, run_id);
  `),
  // 2: probe time series (one row per sample and series) and each job's encoded latency histogram
  // as a column, so a comparison reads histograms without parsing whole reports.
  (db) => db.exec(`
    ALTER TABLE jobs ADD COLUMN histogram TEXT;
    UPDATE jobs SET histogram = json_extract(report, '$.histogram');
    CREATE TABLE probe_samples (
      run_id INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      probe TEXT NOT NULL,
      series TEXT NOT NULL,
      at_ms REAL NOT NULL,
      value REAL NOT NULL,
      FOREIGN KEY (run_id, seq) REFERENCES jobs(run_id, seq) ON DELETE CASCADE
    );
    CREATE INDEX probe_samples_by_job ON probe_samples (run_id, seq);
  `),
]

export const PERF_DB_SCHEMA_VERSION = MIGRATIONS.length

interface RunRow {
  id: number
  started_at: string
  finished_at: string | null
  status: RunStatus
  user: string
  hostname: string
  pid: number | null
  source: string
  fingerprint: string
  counts: string | null
  stopped_early: string | null
}

interface JobRow {
  run_id: number
  seq: number
  job_id: string
  name: string
  suite: string
  status: JobStatus
  recorded_at: string
  report: string
}

/**
 * The PerfDB: every run and its jobs in one SQLite file (WAL, so a reader never blocks the run
 * writing, and two runs can write at once). A run is written job by job, each in its own
 * transaction: a run killed half-way keeps every job that finished, and is marked interrupted.
 */
export class PerfDb {
  private constructor(private readonly db: Database.Database, readonly path: string) {}

  static open(path: string): PerfDb {
    let db: Database.Database
    try {
      mkdirSync(dirname(path), { recursive: true })
      db = new Database(path, { timeout: BUSY_TIMEOUT_MS })
      enableWal(db)
      db.pragma('foreign_keys = ON')
    } catch (error) {
      throw new InferbenchError('INFERBENCH_PERFDB', `cannot open the PerfDB ${path}: ${(error as Error).message}`, { cause: error })
    }
    try {
      migrate(db, path)
    } catch (error) {
      db.close()
      throw error
    }
    const store = new PerfDb(db, path)
    store.settleAbandonedRuns()
    return store
  }

  close(): void {
    this.db.close()
  }

  /** Starts a run; its jobs are added with `recordJob` as they finish. */
  beginRun(run: { startedAt: string; fingerprint: Fingerprint; source: string }): number {
    const result = this.db.prepare(`INSERT INTO runs (started_at, status, user, hostname, pid, source, git_commit, git_dirty, fingerprint)
      VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)`).run(
      run.startedAt, currentUser(), hostname(), process.pid, run.source,
      run.fingerprint.git?.commit ?? null, run.fingerprint.git ? Number(run.fingerprint.git.dirty) : null, JSON.stringify(run.fingerprint),
    )
    return Number(result.lastInsertRowid)
  }

  /**
   * A run kept open by another process than the one writing it now (the leader, a task's run over
   * hours and restarts): not settled as abandoned when that process is gone.
   */
  detachRun(runId: number): void {
    this.db.prepare('UPDATE runs SET pid = NULL WHERE id = ?').run(runId)
  }

  /** One finished job, in its own transaction. */
  recordJob(runId: number, report: JobReport): void {
    const insert = this.db.transaction(() => {
      const { seq } = this.db.prepare('SELECT COALESCE(MAX(seq), -1) + 1 AS seq FROM jobs WHERE run_id = ?').get(runId) as { seq: number }
      const measured = report.status === 'skipped' ? undefined : report
      this.db.prepare(`INSERT INTO jobs (run_id, seq, job_id, suite, name, file, status, p50_ms, p99_ms, requests_per_sec, histogram, recorded_at, report)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        runId, seq, report.id, report.suite, report.name, report.file, report.status,
        measured?.latency?.p50 ?? null, measured?.latency?.p99 ?? null, measured?.throughput?.requestsPerSec ?? null,
        measured?.histogram ?? null, new Date().toISOString(), JSON.stringify(report),
      )
      const sample = this.db.prepare('INSERT INTO probe_samples (run_id, seq, probe, series, at_ms, value) VALUES (?, ?, ?, ?, ?, ?)')
      for (const [probe, result] of Object.entries(measured?.probes ?? {})) {
        if (!result.available) continue
        for (const [series, values] of Object.entries(result.samples.series)) {
          values.forEach((value, i) => {
            // NaN (JSON null): the series had no reading then; nothing is stored, not a zero.
            if (typeof value === 'number' && Number.isFinite(value)) sample.run(runId, seq, probe, series, result.samples.atMs[i] ?? 0, value)
          })
        }
      }
    })
    // BEGIN IMMEDIATE: a deferred transaction that reads, then writes, fails at once (SQLITE_BUSY,
    // no waiting) when another run committed in between; an immediate one waits its turn.
    insert.immediate()
  }

  /** Ends a run: completed, or interrupted (Ctrl-C, --bail leaves it completed with stoppedEarly). */
  endRun(runId: number, run: Pick<RunReport, 'finishedAt' | 'counts' | 'fingerprint' | 'stoppedEarly'> & { startedAt?: string }): void {
    // The report's own start time, so a run and its JSON report are recognisably one run.
    this.db.prepare('UPDATE runs SET started_at = COALESCE(?, started_at), finished_at = ?, status = ?, counts = ?, stopped_early = ?, fingerprint = ? WHERE id = ?').run(
      run.startedAt ?? null, run.finishedAt, run.stoppedEarly === 'interrupted' ? 'interrupted' : 'completed', JSON.stringify(run.counts),
      run.stoppedEarly ?? null, JSON.stringify(run.fingerprint), runId,
    )
  }

  /** A whole run report (a CI artifact, a shard's JSON) as one run, in one transaction. */
  importRun(run: RunReport, source: string): number {
    const load = this.db.transaction(() => {
      const id = this.beginRun({ startedAt: run.startedAt, fingerprint: run.fingerprint, source })
      // The importer's pid means nothing for an imported run.
      this.db.prepare('UPDATE runs SET pid = NULL, hostname = ? WHERE id = ?').run(run.fingerprint.hostname, id)
      for (const job of run.jobs) this.recordJob(id, job)
      this.endRun(id, run)
      return id
    })
    return load.immediate()
  }

  runs(query: RunQuery = {}): RunRecord[] {
    const rows = this.db.prepare(`SELECT * FROM runs ${query.status ? 'WHERE status = @status' : ''} ORDER BY id DESC LIMIT @limit`)
      .all({ limit: query.limit ?? -1, ...(query.status ? { status: query.status } : {}) }) as RunRow[]
    return rows.map((row) => this.toRunRecord(row))
  }

  run(id: number): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined
    return row ? this.toRunRecord(row) : undefined
  }

  /** A run's jobs in the order they ran. */
  jobs(runId: number): JobRecord[] {
    const rows = this.db.prepare('SELECT run_id, seq, job_id, name, suite, status, recorded_at, report FROM jobs WHERE run_id = ? ORDER BY seq').all(runId) as JobRow[]
    return rows.map(toJobRecord)
  }

  /** The latest runs of jobs whose name or id matches `pattern` (a regular expression), newest first. */
  jobHistory(pattern: RegExp, limit = 50): JobRecord[] {
    const rows = this.db.prepare('SELECT run_id, seq, job_id, name, suite, status, recorded_at, report FROM jobs ORDER BY run_id DESC, seq').iterate() as IterableIterator<JobRow>
    const found: JobRecord[] = []
    for (const row of rows) {
      if (!pattern.test(`${row.suite} > ${row.name}`) && !pattern.test(row.job_id)) continue
      found.push(toJobRecord(row))
      if (found.length >= limit) break
    }
    return found
  }

  /** A job's probe time series: by probe and series, the (time, value) pairs in order. */
  probeSeries(runId: number, seq: number): Record<string, Record<string, Array<[number, number]>>> {
    const rows = this.db.prepare('SELECT probe, series, at_ms, value FROM probe_samples WHERE run_id = ? AND seq = ? ORDER BY rowid').all(runId, seq) as Array<{ probe: string; series: string; at_ms: number; value: number }>
    const out: Record<string, Record<string, Array<[number, number]>>> = {}
    for (const r of rows) ((out[r.probe] ??= {})[r.series] ??= []).push([r.at_ms, r.value])
    return out
  }

  /**
   * A job's p50, p99 and throughput in stored runs (passed or failed), newest first: the
   * run-to-run spread a comparison holds a change against. Only runs that started at or before
   * `startedAtOrBefore` (the baseline) count, so a regression already stored never widens the
   * spread that should catch the next one; copies of one run (imported twice) count once.
   */
  jobFigures(jobId: string, options: { startedAtOrBefore?: string; excludeRunId?: number; limit?: number } = {}): { p50: number[]; p99: number[]; throughput: number[] } {
    const rows = this.db.prepare(`SELECT MAX(j.p50_ms) AS p50_ms, MAX(j.p99_ms) AS p99_ms, MAX(j.requests_per_sec) AS requests_per_sec, r.started_at
      FROM jobs j JOIN runs r ON r.id = j.run_id
      WHERE j.job_id = ? AND j.status IN ('passed', 'failed') AND r.started_at <= ? AND r.id != ?
      GROUP BY r.started_at, r.hostname ORDER BY r.started_at DESC LIMIT ?`)
      .all(jobId, options.startedAtOrBefore ?? '9999', options.excludeRunId ?? -1, options.limit ?? 10) as Array<{ p50_ms: number | null; p99_ms: number | null; requests_per_sec: number | null }>
    const column = (pick: (r: typeof rows[number]) => number | null) => rows.map(pick).filter((v): v is number => v !== null)
    return { p50: column((r) => r.p50_ms), p99: column((r) => r.p99_ms), throughput: column((r) => r.requests_per_sec) }
  }

  /**
   * Every stored configuration (job id) with a measurement (passed or failed): its latest result,
   * the machine it ran on, and how many stored runs measured it (with their throughputs, for the
   * run-to-run spread). For the recommender and the leaderboard.
   */
  configurations(): Array<{ latest: JobRecord; fingerprint: Fingerprint; runs: number; throughputs: number[] }> {
    const rows = this.db.prepare(`SELECT j.run_id, j.seq, j.job_id, j.name, j.suite, j.status, j.recorded_at, j.report, j.requests_per_sec, r.fingerprint AS run_fingerprint
      FROM jobs j JOIN runs r ON r.id = j.run_id WHERE j.status IN ('passed', 'failed') ORDER BY r.started_at DESC, j.run_id DESC, j.seq`).iterate() as IterableIterator<JobRow & { requests_per_sec: number | null; run_fingerprint: string }>
    const byId = new Map<string, { latest: JobRecord; fingerprint: Fingerprint; runs: number; throughputs: number[] }>()
    for (const row of rows) {
      const seen = byId.get(row.job_id)
      if (seen) {
        seen.runs++
        if (row.requests_per_sec !== null) seen.throughputs.push(row.requests_per_sec)
        continue
      }
      byId.set(row.job_id, { latest: toJobRecord(row), fingerprint: JSON.parse(row.run_fingerprint) as Fingerprint, runs: 1, throughputs: row.requests_per_sec !== null ? [row.requests_per_sec] : [] })
    }
    return [...byId.values()]
  }

  /**
   * How long a job took in its latest stored runs (cold start + warm-up + measurement, ms), newest
   * first: the scheduler's duration estimate once a job has history.
   */
  jobDurations(jobId: string, limit = 5): number[] {
    const rows = this.db.prepare("SELECT report FROM jobs WHERE job_id = ? AND status IN ('passed', 'failed') ORDER BY run_id DESC LIMIT ?").all(jobId, limit) as Array<{ report: string }>
    return rows.map((r) => {
      const report = JSON.parse(r.report) as { durationMs?: number; coldStartMs?: number; settings?: { warmup?: false | { durationMs?: number } } }
      const warmup = report.settings?.warmup ? report.settings.warmup.durationMs ?? 0 : 0
      return (report.durationMs ?? 0) + (report.coldStartMs ?? 0) + warmup
    }).filter((ms) => ms > 0)
  }

  /** The stored run that started at this time on this host (an earlier import of the same report), if any. */
  findRun(startedAt: string, hostname: string): number | undefined {
    const row = this.db.prepare('SELECT id FROM runs WHERE started_at = ? AND hostname = ? ORDER BY id LIMIT 1').get(startedAt, hostname) as { id: number } | undefined
    return row?.id
  }

  /**
   * A run still 'running' whose process is gone (SIGKILL, a crash, a power cut) on this host is
   * interrupted: it keeps the jobs it wrote.
   */
  private settleAbandonedRuns(): void {
    const open = this.db.prepare("SELECT id, pid, hostname FROM runs WHERE status = 'running'").all() as Array<{ id: number; pid: number | null; hostname: string }>
    const here = hostname()
    for (const run of open) {
      if (run.hostname !== here || run.pid === null || processAlive(run.pid)) continue
      const counts = this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs WHERE run_id = ? GROUP BY status').all(run.id) as Array<{ status: JobStatus; n: number }>
      this.db.prepare("UPDATE runs SET status = 'interrupted', stopped_early = 'interrupted (the process ended without finishing the run)', counts = ? WHERE id = ? AND status = 'running'")
        .run(JSON.stringify(countsOf(counts)), run.id)
    }
  }

  private toRunRecord(row: RunRow): RunRecord {
    const counts = row.counts ? JSON.parse(row.counts) as Record<JobStatus, number>
      : countsOf(this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs WHERE run_id = ? GROUP BY status').all(row.id) as Array<{ status: JobStatus; n: number }>)
    return {
      id: row.id, startedAt: row.started_at, status: row.status, user: row.user, hostname: row.hostname, source: row.source,
      fingerprint: JSON.parse(row.fingerprint) as Fingerprint, counts,
      ...(row.finished_at ? { finishedAt: row.finished_at } : {}),
      ...(row.stopped_early ? { stoppedEarly: row.stopped_early } : {}),
    }
  }
}

const BUSY_TIMEOUT_MS = 10_000

/**
 * Switches the file to WAL. SQLite answers the switch SQLITE_BUSY at once, without its busy
 * timeout, when another process writes at that moment (the pragma holds a read transaction and
 * upgrading it could deadlock), as two runs opening a fresh file together did once on CI; so it
 * is retried here within the same timeout.
 */
function enableWal(db: Database.Database): void {
  const deadline = performance.now() + BUSY_TIMEOUT_MS
  for (;;) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || performance.now() > deadline) throw error
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 20)
    }
  }
}

function migrate(db: Database.Database, path: string): void {
  // Each step reads the version under the write lock: two runs opening a fresh file at once
  // must not both apply the same step.
  const step = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number
    if (version > MIGRATIONS.length) {
      throw new InferbenchError('INFERBENCH_PERFDB', `${path} has PerfDB schema version ${version}, newer than this inferbench's ${MIGRATIONS.length}; upgrade inferbench, or point perfDb at another file`)
    }
    if (version === MIGRATIONS.length) return false
    MIGRATIONS[version]!(db)
    db.pragma(`user_version = ${version + 1}`)
    return true
  })
  while (step.immediate()) { /* one schema step per transaction */ }
}

function toJobRecord(row: JobRow): JobRecord {
  return { runId: row.run_id, seq: row.seq, jobId: row.job_id, name: row.name, suite: row.suite, status: row.status, recordedAt: row.recorded_at, report: JSON.parse(row.report) as JobReport }
}

function countsOf(rows: Array<{ status: JobStatus; n: number }>): Record<JobStatus, number> {
  const counts: Record<JobStatus, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const r of rows) counts[r.status] = r.n
  return counts
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function currentUser(): string {
  try {
    return userInfo().username
  } catch {
    return process.env.USER ?? 'unknown'
  }
}
