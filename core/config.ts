import { relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { cosmiconfig, type Loader } from 'cosmiconfig'
import { z } from 'zod'
import { describeValue } from './describe-value.ts'
import { DURATION_FORMS } from './duration.ts'
import { durationSchema } from './duration-schema.ts'
import { InferbenchError } from './errors.ts'
import { moduleFormatHint } from './import-hint.ts'
import type { Plugin } from './plugin.ts'

const pluginSchema = z.custom<Plugin>(
  (value) => value !== null && typeof value === 'object' && typeof (value as Plugin).name === 'string',
  { message: 'expected a plugin object with a name, e.g. onnxruntime(), or false to leave one out' },
)

const workloadRefSchema = z.strictObject({
  type: z.string(),
  options: z.record(z.string(), z.unknown()).default({}),
})

const warmupSchema = z.union([
  z.literal(false),
  durationSchema,
  z.strictObject({ duration: durationSchema.optional(), requests: z.number().int().nonnegative().optional() }),
], { error: (issue) => `expected ${DURATION_FORMS}, { duration, requests } or false, received ${describeValue(issue.input)}` })

const defaultsSchema = z.strictObject({
  /** Backend of a bench that names none. */
  backend: z.string().default('onnxruntime'),
  /** Batch size of a bench that names none. */
  batch: z.number().int().positive().default(1),
  /** Warm-up before each serving job's measurement: a duration, { duration, requests }, or false. */
  warmup: warmupSchema.default(1000),
  /** Workload of a bench that names none. */
  workload: workloadRefSchema.default({ type: 'closed', options: { concurrency: 1, duration: '5s' } }),
})

const IDLE_FORMS = 'expected true, false or { maxCpu, maxGpu, window, timeout }'
const idleObjectSchema = z.strictObject({
  /** The machine's CPU utilisation (all cores, %) over one window must be at most this. */
  maxCpu: z.number().min(0).max(100).default(10),
  /** And every GPU's (nvidia-smi), where there are any. */
  maxGpu: z.number().min(0).max(100).default(10),
  /** How long each look at the machine lasts. */
  window: durationSchema.refine((ms) => ms >= 100, 'expected at least 100ms').default(1000),
  /** Give up (the job errors, saying what was busy) after waiting this long. */
  timeout: durationSchema.default(60_000),
}, { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown option ${issue.keys.join(', ')}; ${IDLE_FORMS}` : IDLE_FORMS) })
  .refine((idle) => idle.timeout >= idle.window, 'timeout must be at least one window')
const idleSchema = z.union([
  z.literal(false),
  z.literal(true).transform(() => idleObjectSchema.parse({})),
  idleObjectSchema,
], { error: (issue) => (typeof issue.input === 'object' && issue.input !== null ? undefined : `${IDLE_FORMS}, received ${describeValue(issue.input)}`) })

export type IdleSettings = z.output<typeof idleObjectSchema>

const measurementSchema = z.strictObject({
  /** Measurement windows per job, for the stability verdict. */
  windows: z.number().int().min(3).default(5),
  /** Windows agree when max/min <= 1 + tolerance (perf_analyzer uses 10%). */
  stabilityTolerance: z.number().positive().max(1).default(0.1),
  /** An unstable measurement is taken again this many times before it is reported as unstable. */
  stabilityRetries: z.number().int().nonnegative().max(10).default(1),
  /** A run shorter than this is invalid. */
  minDuration: durationSchema.default(1000),
  /** A run with fewer answered requests than this is invalid. */
  minRequests: z.number().int().nonnegative().default(100),
  /** Open loop: requests in flight above which an arrival is counted as overflow (per workload, overridable). */
  maxOutstanding: z.number().int().positive().default(1024),
  /** Open loop: a send this much after its intended time counts as late. */
  lateThreshold: durationSchema.default(2),
  /**
   * Open loop: wake this long before each send and wait out the rest on the event loop, for
   * sub-millisecond send precision; costs CPU on the load generator's core at high rates. With
   * nothing in flight the timer sleeps whole milliseconds only (Node fires shorter timers late),
   * so the spin then lasts from this to this + 1 ms. 0 uses plain timers (0.5-1 ms late on
   * average, which then shows in every latency).
   */
  spin: durationSchema.default(1),
  /** Resource probes sampled during every measurement, by name ([] for none): cpu, memory, nvidia, or a plugin's. */
  probes: z.array(z.string()).default(['cpu', 'memory']),
  /** Options of each probe by name, e.g. { prometheus: { url: 'http://127.0.0.1:8002/metrics', series: ['nv_*'] } }. */
  probeOptions: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /** How often the probes sample. */
  probeInterval: durationSchema.refine((ms) => ms >= 10, 'expected at least 10ms').default(250),
  /** Wait before each serving job until the machine is quiet: true for the defaults, or { maxCpu, maxGpu, window, timeout }. */
  idle: idleSchema.default(false),
  /** Hard limit on one job (load generation, warm-up and cold start together). */
  jobTimeout: durationSchema.refine((ms) => ms > 0, 'expected a duration above zero').default(600_000),
})

const costSchema = z.strictObject({
  /** The cost model that turns measurements into energy, CO2 and cost (a plugin may add one). */
  model: z.string().default('default'),
  /** Where the machine draws power: a cloud region ('us-east-1', 'europe-west1') or a grid ('US', 'DE', 'world'). */
  region: z.string().default('world'),
  /** The grid's carbon intensity in gCO2e/kWh, instead of the table's for `region`. */
  gridIntensity: z.number().positive().optional(),
  /** The cloud instance the figures are priced on, e.g. 'aws:g5.xlarge' or 'gcp:n2-standard-4'. */
  instance: z.string().optional(),
  /** The instance's hourly price in USD, instead of the table's (reserved, spot, another region). */
  pricePerHour: z.number().positive().optional(),
  /** Extra or corrected table entries: hourly USD prices by instance, gCO2e/kWh by region. */
  prices: z.record(z.string(), z.number().positive()).default({}),
  regions: z.record(z.string(), z.number().nonnegative()).default({}),
  /** CPU power estimate when nothing measures it: watts per logical core at idle and at full load. */
  cpuWattsPerCore: z.strictObject({ idle: z.number().nonnegative(), max: z.number().positive() }, { error: 'expected { idle, max }: watts per logical core at idle and at full load' })
    .refine((w) => w.max >= w.idle, 'max (watts at full load) must be at least idle').optional(),
})

export type CostSettings = z.output<typeof costSchema>

export const configSchema = z.strictObject({
  /** Folder the include globs, outputs and cache are relative to; default the config file's folder. */
  root: z.string().optional(),
  include: z.array(z.string()).default(['**/*.bench.ts', '**/*.bench.yaml', '**/*.bench.yml']),
  exclude: z.array(z.string()).default(['**/node_modules/**', '**/dist/**', '**/.git/**']),
  plugins: z.array(z.union([pluginSchema, z.literal(false), z.null(), z.undefined()])).default([]),
  reporters: z.array(z.string()).default(['default']),
  /** One path for every file-writing reporter, or a path per reporter: { json: 'out.json' }. */
  outputFile: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
  /** Stop after this many failed jobs (true = 1). */
  bail: z.union([z.boolean(), z.number().int().nonnegative()]).default(false),
  testNamePattern: z.string().optional(),
  /** Generated models and other caches. */
  cacheDir: z.string().default('node_modules/.cache/inferbench'),
  /** The model repository (SQLite + content-addressed files) used by `inferbench model` and model.repo(). */
  repository: z.string().default('.inferbench/models'),
  /** The PerfDB (SQLite) every run is stored in, for history and compare; false: store nothing. */
  perfDb: z.union([z.string(), z.literal(false)]).default('.inferbench/perf.db'),
  defaults: defaultsSchema.default(defaultsSchema.parse({})),
  /**
   * Purely descriptive matrix axes, by name, with what they mean (a repetition counter, a label):
   * a parameter no plugin reads is otherwise a usage error.
   */
  axes: z.record(z.string(), z.string()).default({}),
  measurement: measurementSchema.default(measurementSchema.parse({})),
  /** Energy, CO2 and cloud cost per request (docs/cost.md). */
  cost: costSchema.default(costSchema.parse({})),
})

export type UserConfig = z.input<typeof configSchema>
export type ParsedConfig = z.output<typeof configSchema>

export interface ResolvedConfig extends Omit<ParsedConfig, 'plugins' | 'bail' | 'root' | 'cacheDir' | 'repository' | 'perfDb'> {
  root: string
  cacheDir: string
  repository: string
  /** Absolute path of the PerfDB, or false when runs are not stored. */
  perfDb: string | false
  /** Where the config came from, for messages; undefined when running on defaults. */
  configFile?: string
  plugins: Plugin[]
  bail: number
}

/** Type helper for inferbench.config.ts; returns its argument unchanged. */
export function defineConfig(config: UserConfig): UserConfig {
  return config
}

const importLoader: Loader = async (filepath) => {
  const module = (await import(pathToFileURL(filepath).href)) as { default?: unknown }
  return module.default ?? module
}

const SEARCH_PLACES = [
  'package.json',
  'inferbench.config.ts', 'inferbench.config.mts', 'inferbench.config.js', 'inferbench.config.mjs',
  'inferbench.config.yaml', 'inferbench.config.yml', 'inferbench.config.json',
  '.inferbenchrc', '.inferbenchrc.json', '.inferbenchrc.yaml', '.inferbenchrc.yml',
]

/**
 * Finds and validates the config: `configFile` when given, else the first of SEARCH_PLACES in
 * `cwd`, else the defaults. `overrides` (CLI flags) win over the file. Never mutates its inputs.
 */
export async function loadConfig(options: {
  cwd: string
  configFile?: string
  overrides?: Partial<UserConfig>
}): Promise<ResolvedConfig> {
  const explorer = cosmiconfig('inferbench', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'none',
    loaders: { '.ts': importLoader, '.mts': importLoader, '.js': importLoader, '.mjs': importLoader },
    cache: false,
  })
  let found: { config: unknown; filepath: string } | null
  try {
    found = options.configFile
      ? await explorer.load(resolve(options.cwd, options.configFile))
      : await explorer.search(options.cwd)
  } catch (error) {
    const where = options.configFile ?? options.cwd
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT'
    throw new InferbenchError(missing ? 'INFERBENCH_CONFIG_NOT_FOUND' : 'INFERBENCH_CONFIG_INVALID',
      missing ? `config file not found: ${where}` : `could not load config ${where}: ${(error as Error).message}${moduleFormatHint(error)}`,
      { cause: error })
  }
  const file = found?.filepath
  const raw = found?.config ?? {}
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InferbenchError('INFERBENCH_CONFIG_INVALID',
      `${displayPath(file, options.cwd)}: expected the config to be an object (export default defineConfig({ ... }))`)
  }
  const parsed = parseConfig({ ...(raw as object), ...stripUndefined(options.overrides ?? {}) }, displayPath(file, options.cwd))
  const configDir = file ? resolve(file, '..') : options.cwd
  const root = parsed.root ? resolve(configDir, parsed.root) : configDir
  return {
    ...parsed,
    root,
    cacheDir: resolve(root, parsed.cacheDir),
    repository: resolve(root, parsed.repository),
    perfDb: parsed.perfDb === false ? false : resolve(root, parsed.perfDb),
    ...(file ? { configFile: file } : {}),
    plugins: parsed.plugins.filter((p): p is Plugin => Boolean(p)),
    bail: parsed.bail === true ? 1 : parsed.bail === false ? 0 : parsed.bail,
  }
}

/** Validates a config object; every problem names `source`, the field path and what was expected. */
export function parseConfig(raw: unknown, source: string): ParsedConfig {
  const result = configSchema.safeParse(raw)
  if (result.success) return result.data
  const lines = result.error.issues.flatMap((issue) => formatIssue(issue, source))
  throw new InferbenchError('INFERBENCH_CONFIG_INVALID',
    `invalid config (${lines.length} problem${lines.length > 1 ? 's' : ''}):\n${lines.map((l) => `  - ${l}`).join('\n')}`)
}

function formatIssue(issue: z.core.$ZodIssue, source: string): string[] {
  const path = issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(configSchema, issue.path.map(String))
    return issue.keys.map((key) =>
      `${source}: ${path ? `${path}.` : ''}${key}: unknown option${known.length ? `; expected one of ${known.join(', ')}` : ''}`)
  }
  const message = issue.message.replace(/^Invalid input: /, '')
  return [`${source}: ${path || '(root)'}: ${message}`]
}

function knownKeysAt(schema: z.ZodType, path: string[]): string[] {
  let current: unknown = schema
  for (const segment of [...path, '']) {
    for (;;) {
      if (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current.unwrap()
      // A union such as `false | { ... }`: the keys of its object form.
      else if (current instanceof z.ZodUnion) {
        const object = (current.options as unknown[]).find((o) => o instanceof z.ZodObject)
        if (!object) break
        current = object
      } else break
    }
    if (segment === '') break
    if (!(current instanceof z.ZodObject)) return []
    current = (current.shape as Record<string, unknown>)[segment]
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : []
}

function displayPath(file: string | undefined, cwd: string): string {
  if (!file) return '(default config)'
  const rel = relative(cwd, file)
  return rel.startsWith('..') ? file : rel
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
