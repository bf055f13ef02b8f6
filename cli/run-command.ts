import { relative } from 'node:path'
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
import { prepareRun } from '../runners/prepare-run.ts'

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
}

/** `inferbench [filters...]`: load config, discover, plan, then list or run. Returns the exit code. */
export async function runCommand(flags: RunFlags, cwd: string, stdout: TextSink): Promise<number> {
  const overrides: Partial<UserConfig> = {
    ...(flags.reporter?.length ? { reporters: flags.reporter } : {}),
    ...(flags.outputFile !== undefined ? { outputFile: flags.outputFile } : {}),
    ...(flags.bail !== undefined ? { bail: flags.bail } : {}),
    ...(flags.testNamePattern !== undefined ? { testNamePattern: flags.testNamePattern } : {}),
  }
  const { config, registry, files, jobs } = await prepareRun({
    cwd, filters: flags.filters, overrides, ...(flags.config ? { configFile: flags.config } : {}),
    onReplace: (name) => process.stderr.write(replacedNotice(name)),
  })
  if (flags.list) {
    printList(jobs, stdout, registry)
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
  checkOutputFiles(config, registry)
  const reporters = createReporters(config, stdout, registry)
  const controller = new AbortController()
  const onSigint = () => controller.abort('interrupted')
  process.once('SIGINT', onSigint)
  try {
    const run = await runLocal({ jobs, registry, config, reporters, signal: controller.signal })
    if (controller.signal.aborted) return EXIT.interrupted
    return run.counts.failed + run.counts.errored > 0 ? EXIT.failed : EXIT.ok
  } finally {
    process.removeListener('SIGINT', onSigint)
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
    }
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

function createReporters(config: ResolvedConfig, stdout: TextSink, registry: PluginRegistry): Reporter[] {
  const warn = (message: string) => process.stderr.write(`${c.yellow('inferbench:')} ${message}\n`)
  return config.reporters.map((name) => {
    const outputFile = outputFileOf(config, name)
    return isolateReporter(name, registry.reporter(name)({ root: config.root, stdout, ...(outputFile ? { outputFile } : {}) }), warn)
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
