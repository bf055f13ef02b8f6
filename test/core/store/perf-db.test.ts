import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { collectFingerprint } from '../../../core/fingerprint.ts'
import type { JobReport } from '../../../core/report.ts'
import { createLatencyHistogram, encodeHistogram } from '../../../core/stats/histogram.ts'
import { MIGRATIONS, PERF_DB_SCHEMA_VERSION, PerfDb } from '../../../core/store/perf-db.ts'
import { REPO_ROOT } from '../../helpers/temp-project.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-perfdb-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshPath = () => join(dir, `perf-${files++}.db`)
const fingerprint = collectFingerprint(REPO_ROOT, 'test', { onnxruntime: '1.30.0' })

function job(id: string, p50: number, status: 'passed' | 'skipped' = 'passed'): JobReport {
  const base = { id, suite: 's', name: `job ${id}`, file: 'x.bench.ts', kind: 'serving' as const, params: { batch: 1 }, estimateMs: 1000, slo: [] }
  if (status === 'skipped') return { ...base, status, reason: 'describe.skip' }
  const h = createLatencyHistogram()
  for (let i = 0; i < 100; i++) h.recordValue(Math.round(p50 * 1000))
  return {
    ...base, status,
    latency: { min: p50, p50, p90: p50, p95: p50, p99: p50, p999: p50, max: p50, mean: p50, stdev: 0 },
    throughput: { requestsPerSec: 1000 / p50, samplesPerSec: 1000 / p50 },
    requests: { ok: 100, errors: 0, late: 0, overflow: 0 }, batch: 1, durationMs: 1000,
    stability: { stable: true, windows: [] }, validity: { valid: true, problems: [], warnings: [] }, histogram: encodeHistogram(h),
  } as JobReport
}

describe('PerfDB', () => {
  it('stores a run job by job and reads it back: runs newest first, jobs in order, the whole report kept', () => {
    const path = freshPath()
    const db = PerfDb.open(path)
    const first = db.beginRun({ startedAt: '2026-11-30T10:00:00.000Z', fingerprint, source: 'cli' })
    const probed = { ...job('a', 2), probes: {
      cpu: { available: true, summary: { processCpuPct: { mean: 50, max: 60 } }, samples: { atMs: [0, 250, 500], series: { processCpuPct: [40, 60, Number.NaN] } } },
      nvidia: { available: false, reason: 'nvidia-smi is not installed' },
    } } as JobReport
    db.recordJob(first, probed)
    db.recordJob(first, job('b', 3))
    db.recordJob(first, job('c', 0, 'skipped'))
    db.endRun(first, { finishedAt: '2026-11-30T10:01:00.000Z', counts: { passed: 2, failed: 0, errored: 0, skipped: 1 }, fingerprint })
    const second = db.beginRun({ startedAt: '2026-11-30T11:00:00.000Z', fingerprint, source: 'cli' })
    db.close()

    const again = PerfDb.open(path)
    // The second run's process (this one) is alive: it stays running.
    expect(again.runs().map((r) => [r.id, r.status])).toEqual([[second, 'running'], [first, 'completed']])
    expect(again.run(first)).toMatchObject({ counts: { passed: 2, skipped: 1 }, finishedAt: '2026-11-30T10:01:00.000Z', source: 'cli', fingerprint: { libraries: { onnxruntime: '1.30.0' } } })
    const jobs = again.jobs(first)
    expect(jobs.map((j) => [j.seq, j.jobId, j.status])).toEqual([[0, 'a', 'passed'], [1, 'b', 'passed'], [2, 'c', 'skipped']])
    expect(jobs[1]!.report).toEqual(job('b', 3))
    // Probe time series as rows; a missing reading (NaN) is not stored as a value.
    expect(again.probeSeries(first, 0)).toEqual({ cpu: { processCpuPct: [[0, 40], [250, 60]] } })
    expect(again.jobFigures('b')).toEqual({ p50: [3], p99: [3], throughput: [1000 / 3] })
    expect(again.jobHistory(/job [ab]/).map((j) => j.jobId)).toEqual(['a', 'b'])
    again.close()
  })

  it('a run whose process died (SIGKILL) is marked interrupted when the PerfDB is next opened, keeping its jobs', () => {
    const path = freshPath()
    const db = PerfDb.open(path)
    const run = db.beginRun({ startedAt: new Date().toISOString(), fingerprint, source: 'cli' })
    db.recordJob(run, job('a', 2))
    db.close()
    // Hand the run to a process that is gone.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    const raw = new Database(path)
    raw.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(Number(dead.stdout), run)
    raw.close()
    const reopened = PerfDb.open(path)
    expect(reopened.run(run)).toMatchObject({ status: 'interrupted', counts: { passed: 1 }, stoppedEarly: expect.stringMatching(/process ended without finishing/) })
    expect(reopened.jobs(run)).toHaveLength(1)
    reopened.close()
  })

  it('brings a database of an older schema up to date, and refuses one from a newer inferbench', () => {
    const path = freshPath()
    const old = new Database(path)
    MIGRATIONS[0]!(old)
    old.pragma('user_version = 1')
    old.prepare(`INSERT INTO runs (id, started_at, status, user, hostname, source, fingerprint) VALUES (1, '2026-01-01T00:00:00.000Z', 'completed', 'u', 'h', 'cli', ?)`).run(JSON.stringify(fingerprint))
    old.prepare(`INSERT INTO jobs (run_id, seq, job_id, suite, name, file, status, p50_ms, recorded_at, report) VALUES (1, 0, 'a', 's', 'job a', 'x', 'passed', 2, '2026-01-01T00:00:01.000Z', ?)`).run(JSON.stringify(job('a', 2)))
    old.close()
    const db = PerfDb.open(path)
    expect(db.jobs(1)[0]!.report).toEqual(job('a', 2))
    db.close()
    const check = new Database(path)
    expect(check.pragma('user_version', { simple: true })).toBe(PERF_DB_SCHEMA_VERSION)
    // The migration filled the new histogram column from the stored reports.
    expect((check.prepare('SELECT histogram FROM jobs').get() as { histogram: string }).histogram).toBe((job('a', 2) as { histogram: string }).histogram)
    check.pragma('user_version = 99')
    check.close()
    expect(() => PerfDb.open(path)).toThrow(/schema version 99, newer than this inferbench's 2/)
  })

  it('two processes writing runs at once both land, every job of each', async () => {
    const path = freshPath()
    const writer = `
      const { PerfDb } = await import(${JSON.stringify(join(REPO_ROOT, 'core/store/perf-db.ts'))})
      const db = PerfDb.open(process.argv[1])
      const id = db.beginRun({ startedAt: new Date().toISOString(), fingerprint: { git: undefined }, source: 'cli' })
      for (let i = 0; i < 60; i++) db.recordJob(id, { id: 'j' + i, suite: 's', name: 'n' + i, file: 'f', status: 'skipped', reason: 'r', params: {} })
      db.endRun(id, { finishedAt: new Date().toISOString(), counts: { passed: 0, failed: 0, errored: 0, skipped: 60 }, fingerprint: {} })
      db.close()`
    const run = () => new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', writer, path], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] })
      child.on('close', resolve)
    })
    expect(await Promise.all([run(), run()])).toEqual([0, 0])
    const db = PerfDb.open(path)
    const runs = db.runs()
    expect(runs).toHaveLength(2)
    for (const r of runs) expect(db.jobs(r.id)).toHaveLength(60)
    db.close()
  }, 30_000)

  it('imports a whole run report as one run', () => {
    const db = PerfDb.open(freshPath())
    const id = db.importRun({
      startedAt: '2026-11-29T09:00:00.000Z', finishedAt: '2026-11-29T09:00:05.000Z', durationMs: 5000, fingerprint,
      jobs: [job('a', 2), job('b', 4)], counts: { passed: 2, failed: 0, errored: 0, skipped: 0 },
    }, 'import:ci.json')
    expect(db.run(id)).toMatchObject({ status: 'completed', source: 'import:ci.json', startedAt: '2026-11-29T09:00:00.000Z', hostname: fingerprint.hostname })
    expect(db.jobs(id).map((j) => j.report.id)).toEqual(['a', 'b'])
    db.close()
  })
})
