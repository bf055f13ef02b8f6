import { relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import c from 'picocolors'
import { loadConfig, type ResolvedConfig, type UserConfig } from '../core/config.ts'
import { collectFile } from '../core/collector.ts'
import { discoverBenchFiles } from '../core/discover.ts'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { moduleFormatHint } from '../core/import-hint.ts'
import { outputPathProblem } from '../core/output-path.ts'
import { planJobs, type Job } from '../core/plan.ts'
import { createRegistry, type PluginRegistry, type Reporter, type TextSink } from '../core/plugin.ts'
import type { SuiteNode } from '../core/tree.ts'
import { isolateReporter } from '../runners/isolated-reporter.ts'
import { runLocal } from '../runners/local.ts'
import { replacedNotice, withBuiltinPlugins } from './builtin-plugins.ts'

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
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}), overrides })
  const registry = createRegistry(withBuiltinPlugins(config.plugins, (name) => process.stderr.write(replacedNotice(name))))
  const files = await discoverBenchFiles({ root: config.root, include: config.include, exclude: config.exclude, filters: flags.filters, cwd })
  if (files.length === 0) {
    throw new InferbenchError('INFERBENCH_USAGE',
      `no bench files found in ${config.root} (include: ${config.include.join(', ')}${flags.filters.length ? `; filters: ${flags.filters.join(' ')}` : ''})`)
  }
  const jobs = planJobs(await collectFiles(files), {
    root: config.root, registry, defaults: config.defaults, axes: config.axes, repositoryDir: config.repository,
    ...(config.testNamePattern ? { testNamePattern: compilePattern(config.testNamePattern) } : {}),
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

async function collectFiles(files: string[]): Promise<SuiteNode[]> {
  const roots: SuiteNode[] = []
  for (const file of files) {
    try {
      roots.push(await collectFile(file, () => import(pathToFileURL(file).href)))
    } catch (error) {
      if (error instanceof InferbenchError) throw error
      throw new InferbenchError('INFERBENCH_BENCH_LOAD_FAILED', `could not load bench file ${file}: ${(error as Error).message}${moduleFormatHint(error)}`, { cause: error })
    }
  }
  return roots
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_USAGE', `-t/--testNamePattern: ${(error as Error).message}`)
  }
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
