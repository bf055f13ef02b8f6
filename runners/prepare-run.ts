import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadConfig, type ResolvedConfig, type UserConfig } from '../core/config.ts'
import { collectFile } from '../core/collector.ts'
import { discoverBenchFiles } from '../core/discover.ts'
import { InferbenchError } from '../core/errors.ts'
import { moduleFormatHint } from '../core/import-hint.ts'
import { checkProbeName, planJobs, type Job } from '../core/plan.ts'
import { createRegistry, type PluginRegistry } from '../core/plugin.ts'
import type { SuiteNode } from '../core/tree.ts'
import { withBuiltinPlugins } from './builtin-plugins.ts'
import { collectYamlSuite } from '../core/yaml-suite.ts'

const isYamlSuite = (file: string) => /\.ya?ml$/.test(file)

export interface PrepareOptions {
  cwd: string
  /** A config file; default: inferbench.config.{ts,js,yaml} or package.json#inferbench found from cwd. */
  configFile?: string
  /** Bench file filters (paths or substrings), as on the command line. */
  filters?: string[]
  /** Config fields that win over the file's (reporters, outputFile, bail, testNamePattern, ...). */
  overrides?: Partial<UserConfig>
  /** Hears of each built-in plugin a config plugin replaces. */
  onReplace?: (name: string) => void
}

export interface PreparedRun {
  config: ResolvedConfig
  registry: PluginRegistry
  files: string[]
  jobs: Job[]
}

/** Loads the config, registers the plugins, finds and loads the bench files, and plans every job. */
export async function prepareRun(options: PrepareOptions): Promise<PreparedRun> {
  const filters = options.filters ?? []
  const config = await loadConfig({ cwd: options.cwd, ...(options.configFile ? { configFile: options.configFile } : {}), ...(options.overrides ? { overrides: options.overrides } : {}) })
  const registry = createRegistry(withBuiltinPlugins(config.plugins, options.onReplace))
  for (const name of config.measurement.probes) checkProbeName(registry, name, `${config.configFile ?? 'config'}: measurement.probes`, 'INFERBENCH_CONFIG_INVALID')
  checkCostSettings(registry, config)
  const files = await discoverBenchFiles({ root: config.root, include: config.include, exclude: config.exclude, filters, cwd: options.cwd })
  if (files.length === 0) {
    throw new InferbenchError('INFERBENCH_USAGE',
      `no bench files found in ${config.root} (include: ${config.include.join(', ')}${filters.length ? `; filters: ${filters.join(' ')}` : ''})`)
  }
  const jobs = planJobs(await collectFiles(files), {
    root: config.root, registry, defaults: config.defaults, axes: config.axes, repositoryDir: config.repository,
    ...(config.testNamePattern ? { testNamePattern: compilePattern(config.testNamePattern) } : {}),
  })
  return { config, registry, files, jobs }
}

// Bench files register their benches when they are evaluated: a second plan in one process (the
// programmatic API) must evaluate them again, not get the module cache's copy.
let loads = 0

async function collectFiles(files: string[]): Promise<SuiteNode[]> {
  const roots: SuiteNode[] = []
  loads++
  for (const file of files) {
    try {
      const url = pathToFileURL(file).href + (loads > 1 ? `?load=${loads}` : '')
      roots.push(await collectFile(file, async () => (isYamlSuite(file) ? collectYamlSuite(file, basename(file).replace(/\.bench\.ya?ml$/, '')) : import(url))))
    } catch (error) {
      if (error instanceof InferbenchError) throw error
      throw new InferbenchError('INFERBENCH_BENCH_LOAD_FAILED', `could not load bench file ${file}: ${(error as Error).message}${moduleFormatHint(error)}`, { cause: error })
    }
  }
  return roots
}

/** An unknown cost model, region or instance is a config error before any job runs. */
function checkCostSettings(registry: PluginRegistry, config: ResolvedConfig): void {
  const where = config.configFile ?? 'config'
  let problem: string | undefined
  try {
    problem = registry.costModel(config.cost.model).check?.(config.cost)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_CONFIG_INVALID', `${where}: cost.model: ${(error as Error).message}`, { cause: error })
  }
  if (problem) throw new InferbenchError('INFERBENCH_CONFIG_INVALID', `${where}: ${problem}`)
}

function compilePattern(pattern: string): RegExp {
  try {
    return new RegExp(pattern)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_USAGE', `-t/--testNamePattern: ${(error as Error).message}`)
  }
}
