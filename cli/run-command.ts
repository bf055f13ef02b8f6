import { dirname, relative, resolve } from 'node:path'
import c from 'picocolors'
import type { ResolvedConfig, UserConfig } from '../core/config.ts'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { outputPathProblem } from '../core/output-path.ts'
import type { Job } from '../core/plan.ts'
import type { PluginRegistry, Reporter, TextSink } from '../core/plugin.ts'
import { isolateReporter } from '../runners/isolated-reporter.ts'
import { replacedNotice } from '../runners/builtin-plugins.ts'
import { runLocal } from '../runners/local.ts'
import { storeRecorder, type StoredRun } from '../runners/store-recorder.ts'
import { loadSide, printComparison, regressionLimit, storedHistory } from './store-command.ts'
import { prepareRun } from '../runners/prepare-run.ts'
import { parseShard, shardJobs } from '../core/schedule/shard.ts'
import { planHash, shardBlobPath, shardBlobWriter } from '../runners/shard-blob.ts'
import { collectFingerprint } from '../core/fingerprint.ts'
import { INFERBENCH_VERSION } from '../runners/version.ts'
import { reportBase } from '../runners/report-base.ts'

export interface RunFlags {
  filters: string[]
  config?: string
  list?: boolean
  reporter?: string[]
  outputFile?: string | Record<string, string>
  bail?: boolean | number
  testNamePattern?: string
  /** Exit 0 when no job is left to run (a filter matched nothing), as Vitest's flag does. */
  passWithNoTests?: boolean
  /** false (--no-store): do not write this run into the PerfDB. */
  store?: boolean
  /** A stored run id or a JSON report to compare this run with when it ends. */
  compare?: string
  /** With compare: exit 1 on a regression beyond noise larger than this percentage. */
  failOnRegression?: string
  /** `i/n`: run only this shard of the plan, and leave a blob for `inferbench merge`. */
  shard?: string
  /** Where shard blobs go (default .inferbench/shards under the root). */
  shardDir?: string
}

/** `inferbench [filters...]`: load config, discover, plan, then list or run. Returns the exit code. */
export async function runCommand(flags: RunFlags, cwd: string, stdout: TextSink): Promise<number> {
  const overrides: Partial<UserConfig> = {
    ...(flags.reporter?.length ? { reporters: flags.reporter } : {}),
    ...(flags.outputFile !== undefined ? { outputFile: flags.outputFile } : {}),
    ...(flags.bail !== undefined ? { bail: flags.bail } : {}),
    ...(flags.testNamePattern !== undefined ? { testNamePattern: flags.testNamePattern } : {}),
  }
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard)
  const { config, registry, files, jobs: planned } = await prepareRun({
    cwd, filters: flags.filters, overrides, ...(flags.config ? { configFile: flags.config } : {}),
    onReplace: (name) => process.stderr.write(replacedNotice(name)),
  })
  const jobs = shard ? shardJobs(planned, shard) : planned
  const blobPath = shard ? shardBlobPath(resolve(config.root, flags.shardDir ?? '.inferbench/shards'), shard) : undefined
  if (flags.list) {
    if (shard) stdout.write(`shard ${shard.index}/${shard.count}: ${jobs.length} of ${planned.length} jobs\n`)
    printList(jobs, stdout, registry)
    return EXIT.ok
  }
  checkOutputFiles(config, registry)
  if (shard && !jobs.some((j) => !j.skip)) {
    // More shards than jobs (a wide CI matrix): an empty shard is not an error, and merge needs its blob.
    const now = new Date().toISOString()
    shardBlobWriter(blobPath!, shard, planned.map((j) => j.id), planHash(planned)).onRunEnd!({
      startedAt: now, finishedAt: now, durationMs: 0, fingerprint: collectFingerprint(config.root, INFERBENCH_VERSION, {}), jobs: jobs.map((j) => ({ ...reportBase(j), status: 'skipped' as const, reason: j.skip ?? '' })),
      counts: { passed: 0, failed: 0, errored: 0, skipped: jobs.length },
    })
    stdout.write(`inferbench: shard ${shard.index}/${shard.count} has no job to run; its blob is ${relative(cwd, blobPath!)}\n`)
    return EXIT.ok
  }
  if (!jobs.some((j) => !j.skip)) {
    const why = jobs.length === 0 ? `no benches in ${files.length} bench file${files.length === 1 ? '' : 's'} (${files.map((f) => relative(cwd, f)).join(', ')})` : `all ${jobs.length} jobs are skipped`
    if (flags.passWithNoTests) {
      stdout.write(`inferbench: ${why}; nothing to run (--passWithNoTests)\n`)
      return EXIT.ok
    }
    throw new InferbenchError('INFERBENCH_NO_JOBS', `${why}; nothing to run. Add a bench(), widen the filters, or pass --passWithNoTests`)
  }
  // The baseline is read before the first job: a wrong id or file costs seconds, not a whole run.
  const failAbove = regressionLimit(flags.failOnRegression)
  if (failAbove !== undefined && flags.compare === undefined) throw new InferbenchError('INFERBENCH_USAGE', '--fail-on-regression needs --compare <run|file> (the baseline to compare with)')
  const baseline = flags.compare === undefined ? undefined
    : await loadSide(flags.compare, config.perfDb ? { db: config.perfDb } : { ...(flags.config ? { config: flags.config } : {}) }, cwd)
  // Lines of our own (the stored run's id, a comparison) go beside the console report; when a
  // reporter owns stdout (--reporter json without a file), they go to stderr and stdout stays parseable.
  const notes: TextSink = config.reporters.includes('default') ? stdout : process.stderr
  const reporters = createReporters(config, { stdout, notes, perfDb: flags.store === false ? false : config.perfDb }, registry)
  const stored: StoredRun = {}
  if (config.perfDb !== false && flags.store !== false) {
    reporters.push(storeRecorder({ path: config.perfDb, root: config.root, source: 'cli', stdout: notes, stored, warn: (m) => process.stderr.write(`inferbench: ${m}\n`) }))
  }
  if (shard) reporters.push(shardBlobWriter(blobPath!, shard, planned.map((j) => j.id), planHash(planned)))
  const controller = new AbortController()
  // SIGTERM (timeout, a CI runner cancelling) stops like Ctrl-C: backends closed, servers stopped, figures kept.
  const onSigint = () => controller.abort('interrupted')
  process.once('SIGINT', onSigint)
  process.once('SIGTERM', onSigint)
  try {
    const run = await runLocal({ jobs, registry, config, reporters, signal: controller.signal })
    if (shard) notes.write(`${c.dim(` shard ${shard.index}/${shard.count}: blob ${relative(cwd, blobPath!)} (inferbench merge ${relative(cwd, dirname(blobPath!)) || '.'} once every shard ran)`)}\n`)
    if (controller.signal.aborted) return EXIT.interrupted
    let regressed = false
    if (baseline) {
      const history = storedHistory(config.perfDb, baseline, stored.id)
      try {
        const current = { label: stored.id !== undefined ? `run ${stored.id} (this run)` : 'this run', jobs: run.jobs, fingerprint: run.fingerprint, startedAt: run.startedAt }
        regressed = printComparison(baseline, current, notes, { history: history.lookup, ...(failAbove !== undefined ? { failAbove } : {}) }) !== EXIT.ok
      } finally {
        history.close()
      }
    }
    return run.counts.failed + run.counts.errored > 0 || regressed ? EXIT.failed : EXIT.ok
  } finally {
    process.removeListener('SIGINT', onSigint)
    process.removeListener('SIGTERM', onSigint)
  }
}

/**
 * Every report path is checked before the first job, so a typo costs seconds, not a whole run:
 * `--outputFile.<name>` must name a registered reporter, and each path must be writable.
 */
function checkOutputFiles(config: ResolvedConfig, registry: PluginRegistry): void {
  const known = registry.names('reporters')
  if (config.outputFile && typeof config.outputFile === 'object') {
    for (const name of Object.keys(config.outputFile)) {
      if (!known.includes(name)) {
        throw new InferbenchError('INFERBENCH_USAGE', `outputFile.${name}: no reporter is named '${name}'; reporters: ${known.join(', ')}`)
      }
      if (!config.reporters.includes(name)) {
        process.stderr.write(`${c.yellow('inferbench:')} outputFile.${name} is set but the ${name} reporter is not used in this run, so nothing is written there; add --reporter ${name}${config.reporters.includes('default') ? ' --reporter default' : ''}\n`)
      }
    }
  }
  // One path for several file reporters: each would write it and the last would win (a JSON
  // report overwritten by the HTML page).
  const writers = config.reporters.filter((name) => name !== 'default')
  if (typeof config.outputFile === 'string' && writers.length > 1) {
    throw new InferbenchError('INFERBENCH_USAGE', `outputFile ${config.outputFile} is one path and reporters ${writers.join(' and ')} would each write it; give each its own: ${writers.map((w) => `--outputFile.${w}=<path>`).join(' ')}`)
  }
  // The built-in console and JSON reporters write to stdout (JSON when given no file): both there
  // would interleave, and a JSON report mixed with the console table is no longer JSON.
  const onStdout = config.reporters.filter((name) => name === 'default' || (name === 'json' && outputFileOf(config, name) === undefined))
  if (onStdout.length > 1) {
    const other = onStdout.find((name) => name !== 'default') ?? onStdout[1]!
    throw new InferbenchError('INFERBENCH_USAGE', `reporters ${onStdout.join(' and ')} would all write to stdout; give ${other} a file: --outputFile.${other}=<path>`)
  }
  for (const name of config.reporters) {
    const path = outputFileOf(config, name)
    const problem = path === undefined ? undefined : outputPathProblem(config.root, path)
    if (problem) throw new InferbenchError('INFERBENCH_OUTPUT_UNWRITABLE', `outputFile${typeof config.outputFile === 'object' ? `.${name}` : ''}: cannot write the ${name} report: ${problem}`)
  }
}

function outputFileOf(config: ResolvedConfig, reporter: string): string | undefined {
  return typeof config.outputFile === 'string' ? config.outputFile : config.outputFile?.[reporter]
}

function createReporters(config: ResolvedConfig, sinks: { stdout: TextSink; notes: TextSink; perfDb: string | false }, registry: PluginRegistry): Reporter[] {
  const warn = (message: string) => process.stderr.write(`${c.yellow('inferbench:')} ${message}\n`)
  return config.reporters.map((name) => {
    const outputFile = outputFileOf(config, name)
    return isolateReporter(name, registry.reporter(name)({ root: config.root, ...sinks, ...(outputFile ? { outputFile } : {}) }), warn)
  })
}

function printList(jobs: readonly Job[], out: TextSink, registry: PluginRegistry): void {
  let total = 0
  let lastSuite = ''
  for (const job of jobs) {
    if (job.suite !== lastSuite) out.write(`${c.bold(job.suite)}\n`)
    lastSuite = job.suite
    const est = job.skip ? c.dim(`skipped: ${job.skip}`) : c.dim(`~${formatMs(job.estimateMs)}`)
    out.write(`  ${c.dim(job.id)}  ${job.fullName}  ${est}\n`)
    if (job.kind === 'serving') {
      const { set, defaults } = registry.resolvedOptions(job.backend, job.params)
      const show = (o: Record<string, unknown>) => Object.entries(o).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')
      const parts = [Object.keys(set).length ? `set ${show(set)}` : '', Object.keys(defaults).length ? `defaults ${show(defaults)}` : ''].filter(Boolean)
      if (parts.length) out.write(`                ${c.dim(`${job.backend} options: ${parts.join('; ')}`)}\n`)
    }
    if (!job.skip) total += job.estimateMs
  }
  const runnable = jobs.filter((j) => !j.skip).length
  out.write(`\n${runnable} job${runnable === 1 ? '' : 's'} to run (${jobs.length - runnable} skipped), estimated ${formatMs(total)}\n`)
}
