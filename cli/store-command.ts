import { existsSync, readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import c from 'picocolors'
import { loadConfig } from '../core/config.ts'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import type { Fingerprint } from '../core/fingerprint.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobReport } from '../core/report.ts'
import { parseRunReport } from '../core/report-schema.ts'
import { compareRuns, worstRegression, type JobHistory, type MetricChange, type RunComparison } from '../core/stats/compare.ts'
import { PerfDb, type RunRecord } from '../core/store/perf-db.ts'

export interface StoreFlags {
  config?: string
  /** A PerfDB file instead of the config's. */
  db?: string
  json?: boolean
  limit?: string
  /** history: list jobs whose name matches this regular expression instead of runs. */
  job?: string
  failOnRegression?: string
}

/** The PerfDB named by --db (the config is not read then), else the config's `perfDb`. */
export async function perfDbPath(flags: Pick<StoreFlags, 'db' | 'config'>, cwd: string): Promise<string | false> {
  if (flags.db) return resolve(cwd, flags.db)
  return (await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })).perfDb
}

/** The PerfDB of --db or the config, opened; `mustExist`: a missing file is an error naming how runs get there. */
export async function openDb(flags: Pick<StoreFlags, 'db' | 'config'>, cwd: string, mustExist: boolean): Promise<{ db: PerfDb }> {
  const path = await perfDbPath(flags, cwd)
  if (path === false) {
    throw new InferbenchError('INFERBENCH_USAGE', 'the config sets perfDb: false, so no runs are stored here: point this command at a PerfDB with --db <path>, or compare JSON report files (--reporter json --outputFile.json=<file>)')
  }
  if (mustExist && !existsSync(path)) {
    throw new InferbenchError('INFERBENCH_RUN_NOT_FOUND', `no PerfDB at ${relative(cwd, path) || path} yet: every \`npx inferbench\` run is stored there (unless --no-store); or import a JSON report with inferbench import <file>`)
  }
  return { db: PerfDb.open(path) }
}

/** `inferbench history [--job <pattern>] [--limit n] [--json]`: runs (or one job's runs), newest first. */
export async function historyCommand(flags: StoreFlags, cwd: string, out: TextSink): Promise<number> {
  const limit = positiveInt(flags.limit, '--limit', 20)
  const { db } = await openDb(flags, cwd, true)
  try {
    if (flags.job !== undefined) {
      const pattern = regex(flags.job, '--job')
      const jobs = db.jobHistory(pattern, limit)
      if (flags.json) return write(out, JSON.stringify(jobs.map((j) => ({ runId: j.runId, ...j.report })), null, 2))
      if (jobs.length === 0) return write(out, `no stored job matches /${flags.job}/`)
      out.write(`${c.dim(pad('run', 5))}  ${c.dim(pad('status', 8))}  ${c.dim(padLeft('p50', 9))}  ${c.dim(padLeft('p99', 9))}  ${c.dim(padLeft('req/s', 10))}  ${c.dim('job')}\n`)
      for (const j of jobs) {
        const r = j.report
        const measured = r.status === 'passed' || r.status === 'failed' || r.status === 'errored' ? r : undefined
        out.write(`${pad(String(j.runId), 5)}  ${pad(j.status, 8)}  ${padLeft(measured?.latency ? formatMs(measured.latency.p50) : '-', 9)}  ${padLeft(measured?.latency ? formatMs(measured.latency.p99) : '-', 9)}  ${padLeft(measured?.throughput ? Math.round(measured.throughput.requestsPerSec).toLocaleString('en-US') : '-', 10)}  ${j.suite} > ${j.name} ${c.dim(j.jobId)}\n`)
      }
      return EXIT.ok
    }
    const runs = db.runs({ limit })
    if (flags.json) return write(out, JSON.stringify(runs, null, 2))
    if (runs.length === 0) return write(out, 'no runs stored yet')
    out.write(`${c.dim(pad('run', 5))}  ${c.dim(pad('started', 19))}  ${c.dim(pad('status', 12))} ${c.dim(pad('jobs ✓ ✗ ! -', 16))}  ${c.dim(pad('git', 9))}  ${c.dim('source')}\n`)
    for (const r of runs) {
      const k = r.counts
      const jobs = `${k.passed} ${k.failed} ${k.errored} ${k.skipped}`
      const git = r.fingerprint.git ? `${r.fingerprint.git.commit.slice(0, 7)}${r.fingerprint.git.dirty ? '*' : ''}` : '-'
      const status = r.status === 'completed' ? r.status : c.yellow(r.status)
      const why = r.stoppedEarly && !r.stoppedEarly.startsWith('interrupted') ? c.dim(` (${r.stoppedEarly})`) : ''
      out.write(`${pad(String(r.id), 5)}  ${pad(r.startedAt.replace('T', ' ').slice(0, 19), 19)}  ${pad(status, 12, r.status.length)} ${pad(jobs, 16)}  ${pad(git, 9)}  ${r.source}${why}\n`)
    }
    return EXIT.ok
  } finally {
    db.close()
  }
}

/** `inferbench import <file.json>...`: JSON reports (CI artifacts, shards) into the PerfDB, one run each. */
export async function importCommand(files: string[], flags: StoreFlags, cwd: string, out: TextSink): Promise<number> {
  if (files.length === 0) throw new InferbenchError('INFERBENCH_USAGE', 'import: give at least one JSON report file (--reporter json writes one)')
  // Every file is checked before any is stored: a bad one among many stores nothing.
  const reports = files.map((file) => ({ file, run: parseRunReport(readReport(resolve(cwd, file), file), file) }))
  const { db } = await openDb(flags, cwd, false)
  try {
    const done: Array<{ file: string; runId: number; jobs: number; alreadyStored: boolean }> = []
    for (const { file, run } of reports) {
      const existing = db.findRun(run.startedAt, run.fingerprint.hostname)
      const runId = existing ?? db.importRun(run, `import:${file}`)
      done.push({ file, runId, jobs: run.jobs.length, alreadyStored: existing !== undefined })
    }
    if (flags.json) return write(out, JSON.stringify({ imported: done }, null, 2))
    for (const d of done) {
      out.write(d.alreadyStored
        ? `${d.file} is already stored as run ${d.runId} (same start time and host); not imported again\n`
        : `imported ${d.file} as run ${d.runId} (${d.jobs} job${d.jobs === 1 ? '' : 's'})\n`)
    }
    return EXIT.ok
  } finally {
    db.close()
  }
}

/** The newest stored run's id, for commands that default to it. */
export async function latestRunId(flags: StoreFlags, cwd: string): Promise<number> {
  const { db } = await openDb(flags, cwd, true)
  try {
    const latest = db.runs({ limit: 1 })[0]
    if (!latest) throw new InferbenchError('INFERBENCH_RUN_NOT_FOUND', `the PerfDB ${db.path} holds no runs yet: run npx inferbench first`)
    return latest.id
  } finally {
    db.close()
  }
}

/** A baseline or a new side of a comparison: a run id in the PerfDB, or a JSON report file. */
export interface RunSide {
  label: string
  jobs: JobReport[]
  fingerprint: Fingerprint
  /** The run's id when it is stored. */
  runId?: number
  /** When it started: stored runs up to then give the run-to-run spread (for a baseline). */
  startedAt: string
}

export async function loadSide(ref: string, flags: StoreFlags, cwd: string): Promise<RunSide> {
  if (/^\d+$/.test(ref)) {
    const { db } = await openDb(flags, cwd, true)
    try {
      const run = db.run(Number(ref))
      if (!run) {
        const latest = db.runs({ limit: 5 }).map((r) => r.id)
        throw new InferbenchError('INFERBENCH_RUN_NOT_FOUND', `the PerfDB ${db.path} holds no run ${ref}${latest.length ? `; latest: ${latest.join(', ')} (inferbench history)` : '; it holds no runs yet'}`)
      }
      return { label: runLabel(run), jobs: db.jobs(run.id).map((j) => j.report), fingerprint: run.fingerprint, runId: run.id, startedAt: run.startedAt }
    } finally {
      db.close()
    }
  }
  const path = resolve(cwd, ref)
  const run = parseRunReport(readReport(path, ref), ref)
  return { label: `${ref} (${run.startedAt.replace('T', ' ').slice(0, 16)})`, jobs: run.jobs, fingerprint: run.fingerprint, startedAt: run.startedAt }
}

/** `inferbench compare <before> <after> [--fail-on-regression pct]`: runs by id or JSON file. */
export async function compareCommand(before: string | undefined, after: string | undefined, flags: StoreFlags, cwd: string, out: TextSink): Promise<number> {
  if (!before || !after) throw new InferbenchError('INFERBENCH_USAGE', 'compare: give two runs: inferbench compare <run|file.json> <run|file.json> (run ids from inferbench history)')
  const failAbove = regressionLimit(flags.failOnRegression)
  const a = await loadSide(before, flags, cwd)
  const b = await loadSide(after, flags, cwd)
  const history = storedHistory(await perfDbPath(flags, cwd), a, b.runId)
  try {
    return printComparison(a, b, out, { json: Boolean(flags.json), history: history.lookup, ...(failAbove !== undefined ? { failAbove } : {}) })
  } finally {
    history.close()
  }
}

/**
 * Stored runs of each job that started at or before the baseline (the baseline's own run
 * included, the judged run left out), when there is a PerfDB: the run-to-run spread.
 */
export function storedHistory(path: string | false, baseline: RunSide, judgedRunId?: number): { lookup: (jobId: string) => JobHistory | undefined; close(): void } {
  if (path === false || !existsSync(path)) return { lookup: () => undefined, close: () => {} }
  const db = PerfDb.open(path)
  return {
    lookup: (jobId) => db.jobFigures(jobId, { startedAtOrBefore: baseline.startedAt, ...(judgedRunId !== undefined ? { excludeRunId: judgedRunId } : {}) }),
    close: () => db.close(),
  }
}

/** Prints a comparison; returns the exit code (1 only for a significant regression beyond `failAbove`). */
export function printComparison(a: RunSide, b: RunSide, out: TextSink, options: { json?: boolean; failAbove?: number; history?: (jobId: string) => JobHistory | undefined }): number {
  const comparison = compareRuns(a.jobs, b.jobs, options.history)
  const differences = fingerprintDifferences(a.fingerprint, b.fingerprint)
  // CI fails only on a regression judged against this machine's run-to-run noise too.
  const worst = worstRegression({ ...comparison, jobs: comparison.jobs.filter((j) => j.historyRuns >= 3) })
  const unjudged = worstRegression({ ...comparison, jobs: comparison.jobs.filter((j) => j.historyRuns < 3) })
  const failed = options.failAbove !== undefined && worst.fraction > options.failAbove
  if (options.json) {
    write(out, JSON.stringify({ before: a.label, after: b.label, ...comparison, fingerprintDifferences: differences, worstRegression: worst.fraction, failed }, null, 2))
    return failed ? EXIT.failed : EXIT.ok
  }
  out.write(`\n ${c.bold('compare')}  ${a.label}  →  ${b.label}\n`)
  for (const d of differences) out.write(` ${c.yellow('!')} the runs differ in ${d}: figures may not be comparable\n`)
  printTable(comparison, out)
  const counts = countVerdicts(comparison)
  out.write(`\n ${counts}\n`)
  out.write(c.dim(' * beyond noise: p50 and req/s by a rank test over the runs\' measurement windows (p<0.05), p99 by its 95% confidence intervals\n   not overlapping, and outside the 99% prediction interval of earlier stored runs of the job when there are 3 or more; see docs/compare.md\n'))
  const withoutHistory = comparison.jobs.filter((j) => j.verdict !== 'not comparable' && j.historyRuns === 0).length
  if (withoutHistory > 0) {
    out.write(` ${c.yellow('!')} ${withoutHistory} of ${comparison.jobs.length} jobs have fewer than 3 earlier stored runs: their verdicts rest on the noise inside each run,\n   not on how much this machine moves between runs (often more); store a few more runs of the baseline to judge that too\n`)
  }
  if (options.failAbove !== undefined) {
    const pct = (options.failAbove * 100).toFixed(1)
    if (unjudged.fraction > options.failAbove) {
      out.write(` ${c.yellow('!')} --fail-on-regression does not count ${unjudged.job!.name} (${unjudged.metric!.metric} ${(unjudged.fraction * 100).toFixed(1)}% worse): with fewer than 3 stored runs\n   at or before the baseline, run-to-run noise cannot be told from a regression. Store (or import) more baseline runs.\n`)
    }
    out.write(failed
      ? ` ${c.red('✗')} regression beyond noise of ${(worst.fraction * 100).toFixed(1)}% (${worst.metric!.metric} of ${worst.job!.name}) exceeds --fail-on-regression ${pct}%\n`
      : ` ${c.green('✓')} no regression beyond noise larger than ${pct}%\n`)
  }
  return failed ? EXIT.failed : EXIT.ok
}

function printTable(comparison: RunComparison, out: TextSink): void {
  if (comparison.jobs.length === 0) out.write(' no job ran in both\n')
  else {
    out.write(`\n   ${c.dim(pad('p50 ms', 26))}${c.dim(pad('p99 ms', 26))}${c.dim(pad('req/s', 26))}${c.dim('job')}\n`)
    for (const job of comparison.jobs) {
      const cell = (m: MetricChange | undefined) => {
        if (!m) return pad('-', 26)
        const fmt = (v: number) => (m.metric === 'throughput' ? Math.round(v).toLocaleString('en-US') : v < 10 ? v.toFixed(3) : v.toFixed(1))
        const delta = `${m.change >= 0 ? '+' : ''}${(m.change * 100).toFixed(1)}%${m.significant ? '*' : ''}`
        const coloured = m.regression ? c.red(delta) : m.improvement ? c.green(delta) : c.dim(delta)
        const text = `${fmt(m.before)} → ${fmt(m.after)} `
        return pad(text + coloured, 26, text.length + delta.length)
      }
      const by = (name: string) => job.metrics.find((m) => m.metric === name)
      const mark = job.verdict === 'slower' ? c.red('↓') : job.verdict === 'faster' ? c.green('↑') : job.verdict === 'mixed' ? c.yellow('±') : ' '
      out.write(` ${mark} ${cell(by('p50'))}${cell(by('p99'))}${cell(by('throughput'))}${job.name}  ${c.dim(job.verdict)}${job.reason ? c.dim(` (${job.reason})`) : ''}\n`)
    }
  }
  if (comparison.onlyAfter.length) out.write(`\n new (not in the baseline): ${comparison.onlyAfter.map((j) => j.name).join('; ')}\n`)
  if (comparison.onlyBefore.length) out.write(` gone (in the baseline only; renamed or removed): ${comparison.onlyBefore.map((j) => j.name).join('; ')}\n`)
}

function countVerdicts(comparison: RunComparison): string {
  const n = (v: string) => comparison.jobs.filter((j) => j.verdict === v).length
  return [`${n('slower')} slower`, `${n('faster')} faster`, `${n('same within noise')} same within noise`,
    ...(n('mixed') ? [`${n('mixed')} mixed`] : []), ...(n('not comparable') ? [`${n('not comparable')} not comparable`] : [])].join(', ')
}

/** What differs between two runs' machines and software that can move a figure. */
export function fingerprintDifferences(a: Fingerprint, b: Fingerprint): string[] {
  const out: string[] = []
  if (a.cpu.model !== b.cpu.model || a.cpu.cores !== b.cpu.cores) out.push(`CPU (${a.cpu.model} × ${a.cpu.cores} vs ${b.cpu.model} × ${b.cpu.cores})`)
  if (a.hostname !== b.hostname) out.push(`host (${a.hostname} vs ${b.hostname})`)
  if (a.node !== b.node) out.push(`Node.js (${a.node} vs ${b.node})`)
  if (a.os.release !== b.os.release) out.push(`kernel (${a.os.release} vs ${b.os.release})`)
  if (a.memoryBytes && b.memoryBytes && a.memoryBytes !== b.memoryBytes) out.push(`memory (${gib(a.memoryBytes)} vs ${gib(b.memoryBytes)})`)
  if (a.inferbench !== b.inferbench) out.push(`inferbench (${a.inferbench} vs ${b.inferbench})`)
  const gpus = (f: Fingerprint) => (f.gpu ? f.gpu.devices.join(', ') || 'a GPU' : 'no GPU')
  if (gpus(a) !== gpus(b)) out.push(`GPUs (${gpus(a)} vs ${gpus(b)})`)
  else if (a.gpu && b.gpu && (a.gpu.driver !== b.gpu.driver || a.gpu.cuda !== b.gpu.cuda)) {
    out.push(`GPU driver (${a.gpu.driver}, CUDA ${a.gpu.cuda ?? '?'} vs ${b.gpu.driver}, CUDA ${b.gpu.cuda ?? '?'})`)
  }
  for (const lib of new Set([...Object.keys(a.libraries), ...Object.keys(b.libraries)])) {
    if (a.libraries[lib] && b.libraries[lib] && a.libraries[lib] !== b.libraries[lib]) out.push(`${lib} (${a.libraries[lib]} vs ${b.libraries[lib]})`)
  }
  return out
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`

export function regressionLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const pct = Number(String(value).replace(/%$/, ''))
  if (!Number.isFinite(pct) || pct < 0) throw new InferbenchError('INFERBENCH_USAGE', `--fail-on-regression: expected a percentage like 5 or 5%, received '${value}'`)
  return pct / 100
}

function runLabel(run: RunRecord): string {
  const git = run.fingerprint.git ? `, ${run.fingerprint.git.commit.slice(0, 7)}${run.fingerprint.git.dirty ? '*' : ''}` : ''
  return `run ${run.id} (${run.startedAt.replace('T', ' ').slice(0, 16)}${git}${run.status !== 'completed' ? `, ${run.status}` : ''})`
}

function readReport(path: string, shown: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new InferbenchError('INFERBENCH_REPORT_INVALID', `cannot read ${shown}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
}

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InferbenchError('INFERBENCH_USAGE', `${flag}: expected a positive integer, received '${value}'`)
  return n
}

export function regex(source: string, flag: string): RegExp {
  try {
    return new RegExp(source)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_USAGE', `${flag}: not a regular expression: ${(error as Error).message}`)
  }
}

function write(out: TextSink, text: string): number {
  out.write(`${text}\n`)
  return EXIT.ok
}

function pad(text: string, width: number, visible = text.length): string {
  return text + ' '.repeat(Math.max(1, width - visible))
}

function padLeft(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - text.length)) + text
}
