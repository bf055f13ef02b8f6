import { pathToFileURL } from 'node:url'
import c from 'picocolors'
import { loadConfig, type ResolvedConfig, type UserConfig } from '../core/config.ts'
import { collectFile } from '../core/collector.ts'
import { discoverBenchFiles } from '../core/discover.ts'
import { formatMs } from '../core/duration.ts'
import { InferbenchError } from '../core/errors.ts'
import { moduleFormatHint } from '../core/import-hint.ts'
import { planJobs, type Job } from '../core/plan.ts'
import { createRegistry, type PluginRegistry, type Reporter, type TextSink } from '../core/plugin.ts'
import type { SuiteNode } from '../core/tree.ts'
import { runLocal } from '../runners/local.ts'
import { withBuiltinPlugins } from './builtin-plugins.ts'

export interface RunFlags {
  filters: string[]
  config?: string
  list?: boolean
  reporter?: string[]
  outputFile?: string | Record<string, string>
  bail?: boolean | number
  testNamePattern?: string
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const

/** `inferbench [filters...]`: load config, discover, plan, then list or run. Returns the exit code. */
export async function runCommand(flags: RunFlags, cwd: string, stdout: TextSink): Promise<number> {
  const overrides: Partial<UserConfig> = {
    ...(flags.reporter?.length ? { reporters: flags.reporter } : {}),
    ...(flags.outputFile !== undefined ? { outputFile: flags.outputFile } : {}),
    ...(flags.bail !== undefined ? { bail: flags.bail } : {}),
    ...(flags.testNamePattern !== undefined ? { testNamePattern: flags.testNamePattern } : {}),
  }
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}), overrides })
  const registry = createRegistry(withBuiltinPlugins(config.plugins))
  const files = await discoverBenchFiles({ root: config.root, include: config.include, exclude: config.exclude, filters: flags.filters, cwd })
  if (files.length === 0) {
    throw new InferbenchError('INFERBENCH_USAGE',
      `no bench files found in ${config.root} (include: ${config.include.join(', ')}${flags.filters.length ? `; filters: ${flags.filters.join(' ')}` : ''})`)
  }
  const jobs = planJobs(await collectFiles(files), {
    root: config.root, registry, defaults: config.defaults,
    ...(config.testNamePattern ? { testNamePattern: compilePattern(config.testNamePattern) } : {}),
  })
  if (flags.list) {
    printList(jobs, stdout)
    return EXIT.ok
  }
  const reporters = createReporters(config, registry, stdout)
  const controller = new AbortController()
  const onSigint = () => controller.abort('interrupted')
  process.once('SIGINT', onSigint)
  try {
    const run = await runLocal({ jobs, registry, config, reporters, signal: controller.signal })
    return run.counts.failed + run.counts.errored > 0 ? EXIT.failed : EXIT.ok
  } finally {
    process.removeListener('SIGINT', onSigint)
  }
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

function createReporters(config: ResolvedConfig, registry: PluginRegistry, stdout: TextSink): Reporter[] {
  return config.reporters.map((name) => {
    const outputFile = typeof config.outputFile === 'string' ? config.outputFile : config.outputFile?.[name]
    return registry.reporter(name)({ root: config.root, stdout, ...(outputFile ? { outputFile } : {}) })
  })
}

function printList(jobs: readonly Job[], out: TextSink): void {
  let total = 0
  let lastSuite = ''
  for (const job of jobs) {
    if (job.suite !== lastSuite) out.write(`${c.bold(job.suite)}\n`)
    lastSuite = job.suite
    const est = job.skip ? c.dim(`skipped: ${job.skip}`) : c.dim(`~${formatMs(job.estimateMs)}`)
    out.write(`  ${c.dim(job.id)}  ${job.fullName}  ${est}\n`)
    if (!job.skip) total += job.estimateMs
  }
  const runnable = jobs.filter((j) => !j.skip).length
  out.write(`\n${runnable} job${runnable === 1 ? '' : 's'} to run (${jobs.length - runnable} skipped), estimated ${formatMs(total)}\n`)
}
