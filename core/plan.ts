import { existsSync } from 'node:fs'
import { relative } from 'node:path'
import { checkAxesClaimed, nearestName } from './axis-claims.ts'
import { describeValue } from './describe-value.ts'
import { parseDurationMs } from './duration.ts'
import { placementOf, processorLabel, resolvePipeline, type ResolvedPipeline } from './pipeline.ts'
import { InferbenchError } from './errors.ts'
import { sha256, stableStringify } from './hash.ts'
import { isModelRef, modelLabel, type ModelRef } from './model-ref.ts'
import type { PluginRegistry, SharingSpec } from './plugin.ts'
import { resolveSlo, type ResolvedSlo } from './stats/slo.ts'
import {
  RESERVED_BENCH_KEYS, type BenchNode, type CheckFn, type FunctionBenchOptions, type MatrixOptions, type SuiteNode,
  type WarmupSpec,
} from './tree.ts'
import type { Scalar } from './types.ts'
import { isWorkloadRef, type WorkloadPlan, type WorkloadRef } from './workload.ts'

export interface Warmup {
  durationMs?: number
  requests?: number
}

interface JobBase {
  /** Stable across runs: a hash of the file, the describe path, the bench name and the parameters. */
  id: string
  file: string
  /** `bench/x.bench.ts > describe > describe`. */
  suite: string
  /** The describe chain from the file's root, for beforeAll/afterAll. */
  suites: SuiteNode[]
  name: string
  /** What `-t` matches and the console prints: `describe > bench [model=…, batch=8]`. */
  fullName: string
  params: Record<string, Scalar>
  estimateMs: number
  /** Why the job will not run (describe.skip, .only elsewhere, -t); undefined when it runs. */
  skip?: string
}

export interface ServingJob extends JobBase {
  kind: 'serving'
  /** Absent when the bench names no model (a backend that needs none, such as `http`). */
  model?: ModelRef
  backend: string
  batch: number
  workload: WorkloadPlan
  /** The workload as the bench named it: what `submit` sends to a cluster, which plans it again. */
  workloadRef: WorkloadRef
  warmup: Warmup | undefined
  slo: ResolvedSlo
  /** The bench's own probe list; absent: the config's measurement.probes. */
  probes?: string[]
  sharing?: SharingSpec
  /** Request data and pre/post-processing (the bench's `pipeline`). */
  pipeline?: ResolvedPipeline
  check?: CheckFn
}

export interface FunctionJob extends JobBase {
  kind: 'function'
  fn: () => unknown
  options: { timeMs: number; iterations?: number; warmupTimeMs: number; warmupIterations?: number }
}

export type Job = ServingJob | FunctionJob

export interface PlanOptions {
  root: string
  registry: PluginRegistry
  defaults: { backend: string; batch: number; warmup: WarmupSpec; workload: WorkloadRef }
  testNamePattern?: RegExp
  /** Descriptive axes declared in the config: claimed though no plugin reads them. */
  axes?: Readonly<Record<string, string>>
  /** The model repository's folder, to read model.repo() entries' dims at plan time. */
  repositoryDir?: string
}

/** Guesses used before any history exists: cold start of a backend, one request when only a count is known. */
const COLD_START_GUESS_MS = 500
const REQUEST_GUESS_MS = 10

/** Expands every file's describe tree into jobs: one per combination of matrix values. */
export function planJobs(files: readonly SuiteNode[], options: PlanOptions): Job[] {
  const jobs: Job[] = []
  for (const root of files) {
    const hasOnly = containsOnly(root)
    walk(root, [root], {}, { skip: false, only: false })
    function walk(suite: SuiteNode, chain: SuiteNode[], inherited: MatrixOptions, flags: { skip: boolean; only: boolean }) {
      const axes = { ...inherited, ...suite.options }
      for (const child of suite.children) {
        const childFlags = { skip: flags.skip || child.mode === 'skip', only: flags.only || child.mode === 'only' }
        if (child.type === 'suite') walk(child, [...chain, child], axes, childFlags)
        else {
          const skip = childFlags.skip ? `${child.mode === 'skip' ? 'bench' : 'describe'}.skip`
            : hasOnly && !childFlags.only ? 'not selected: another bench or describe in this file has .only' : undefined
          jobs.push(...planBench(child, chain, axes, skip, options))
        }
      }
    }
  }
  // Two jobs with one id would be one configuration to history, compare and the leaderboard.
  const seen = new Map<string, Job>()
  for (const job of jobs) {
    const other = seen.get(job.id)
    if (other) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID',
        `${relative(options.root, job.file) || job.file} > ${job.fullName}: the same bench name and parameters as ${other.fullName}; give the benches different names`)
    }
    seen.set(job.id, job)
  }
  if (options.testNamePattern) {
    for (const job of jobs) {
      if (!job.skip && !options.testNamePattern.test(job.fullName)) job.skip = `does not match -t ${options.testNamePattern}`
    }
  }
  return jobs
}

function planBench(bench: BenchNode, chain: SuiteNode[], axes: MatrixOptions, skip: string | undefined, options: PlanOptions): Job[] {
  const file = relative(options.root, bench.file) || bench.file
  const suitePath = chain.slice(1).map((s) => s.name)
  const where = `${file} > ${[...suitePath, bench.name].join(' > ')}`
  const base = { file: bench.file, suite: [file, ...suitePath].join(' > '), suites: chain, name: bench.name, ...(skip ? { skip } : {}) }
  const titleOf = (params: Record<string, Scalar>) => {
    const title = [...suitePath, bench.name].join(' > ')
    const args = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(', ')
    return args ? `${title} [${args}]` : title
  }
  const idOf = (params: Record<string, Scalar>) => sha256(`${file}\0${suitePath.join('\0')}\0${bench.name}\0${stableStringify(params)}`).slice(0, 12)

  if (bench.fn) {
    const options = functionOptions(bench.fnOptions ?? {}, where)
    return [{
      ...base, kind: 'function', id: idOf({}), params: {}, fullName: titleOf({}), fn: bench.fn, options,
      estimateMs: options.timeMs + options.warmupTimeMs,
    }]
  }

  const benchOptions = bench.options ?? {}
  const overrides = Object.fromEntries(Object.entries(benchOptions).filter(([k]) => !(RESERVED_BENCH_KEYS as readonly string[]).includes(k)))
  const merged: MatrixOptions = { ...axes, ...overrides }
  const workloadRef = benchOptions.workload ?? options.defaults.workload
  if (!isWorkloadRef(workloadRef)) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: workload: expected a workload such as workload.closed({ concurrency: 4, duration: '10s' })`)
  }
  const workload = planWorkload(workloadRef, options.registry, where)
  const warmup = resolveWarmup(benchOptions.warmup ?? options.defaults.warmup, where)
  const slo = resolveSlo(benchOptions.slo, where)
  // MLPerf Server: the latency bound is the scenario's constraint, so it is the job's verdict too
  // (an SLO of the bench's own p99 wins).
  const bound = workload.scenario?.latencyBoundMs
  if (bound !== undefined && slo.p99 === undefined) slo.p99 = bound
  const probes = benchOptions.probes === undefined ? undefined : resolveProbes(benchOptions.probes, options.registry, where)
  const sharing = benchOptions.sharing === undefined ? undefined : resolveSharing(benchOptions.sharing, where)
  const pipeline = benchOptions.pipeline === undefined ? undefined : resolvePipeline(benchOptions.pipeline, options.registry, options.root, where)
  const axisContext = { registry: options.registry, declared: options.axes ?? {}, ...(options.repositoryDir ? { repositoryDir: options.repositoryDir } : {}) }
  const dimsCache: Parameters<typeof checkAxesClaimed>[5] = new Map()
  const expanded = expandMatrix(merged, where)
  if (benchOptions.id !== undefined && (typeof benchOptions.id !== 'string' || !/^[\w.-]{1,64}$/.test(benchOptions.id) || expanded.length > 1)) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: id: pins the id of a bench that plans one job (letters, digits, . _ -); ${expanded.length > 1 ? `this one plans ${expanded.length}` : `received ${describeValue(benchOptions.id)}`}`)
  }
  return expanded.map(({ model, params }) => {
    const backend = String(params.backend ?? options.defaults.backend)
    requirePlugins(options.registry, backend, model, where)
    const batch = Number(params.batch ?? options.defaults.batch)
    checkAxesClaimed(params, backend, batch, model, axisContext, dimsCache, where)
    if (params.network !== undefined) {
      if (!options.registry.routes(backend)) {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: network: backend '${backend}' runs in this process, with no connection to put a link on; use a backend that connects over a socket (server, http, kserve, triton, tfserving)`)
      }
      try {
        options.registry.link(String(params.network))
      } catch (error) {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: network: ${(error as Error).message.replace(/^unknown network/, 'no network')}`, { cause: error })
      }
    }
    const jobWorkload = scenarioWorkload(workload, batch, where)
    if (params.placement !== undefined && !pipeline) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: placement: says where a pipeline's pre-processing runs, and this bench has no pipeline`)
    }
    if (pipeline && placementOf(params, where) === 'server') {
      if (!pipeline.pre) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: placement: 'server' moves the pipeline's pre-processing to the server, and it has none`)
      if (!options.registry.processesOnServer(backend)) {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: placement: 'server': backend '${backend}' cannot run pre-processing on its server; use backend: 'server' (inferbench serve does), or placement: 'client'`)
      }
    }
    if (sharing && !options.registry.shares(backend)) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: sharing: backend '${backend}' cannot serve several copies of a model; use backend: 'server' (it starts one inferbench serve per copy)`)
    }
    // Sharing is part of what the job is: in its name, its table row and its id (2 copies ≠ 4).
    const fullParams: Record<string, Scalar> = {
      ...(model ? { model: modelLabel(model) } : {}), backend, batch, ...params,
      // The pipeline is part of what the job is: in its row, its name and its id.
      ...(pipeline && params.data === undefined ? { data: pipeline.data } : {}),
      ...(pipeline?.pre && params.pre === undefined ? { pre: processorLabel(pipeline.pre) } : {}),
      ...(pipeline?.post && params.post === undefined ? { post: processorLabel(pipeline.post) } : {}),
      ...(sharing ? { sharing: `${sharing.instances} cop${sharing.instances === 1 ? 'y' : 'ies'}${sharing.mps ? ', mps' : ''}` } : {}),
    }
    return {
      ...base, kind: 'serving', id: benchOptions.id ?? idOf(fullParams), params: fullParams, fullName: `${titleOf(fullParams)} ${workload.label}`,
      ...(model ? { model } : {}), backend, batch, workload: jobWorkload, workloadRef, warmup, slo, ...(probes ? { probes } : {}), ...(sharing ? { sharing } : {}), ...(pipeline ? { pipeline } : {}), ...(bench.check ? { check: bench.check } : {}),
      estimateMs: estimateServingMs(jobWorkload, warmup),
    } satisfies ServingJob
  })
}

/**
 * An MLPerf scenario fixes the samples per query: SingleStream and Server send one, MultiStream
 * `samplesPerQuery` (the bench's batch), Offline its samples as requests of `batch` each.
 */
function scenarioWorkload(plan: WorkloadPlan, batch: number, where: string): WorkloadPlan {
  const scenario = plan.scenario
  if (!scenario) return plan
  if (scenario.name === 'Offline') return { ...plan, kind: 'closed', requests: Math.ceil(scenario.samplesPerQuery / batch) } as WorkloadPlan
  if (batch !== scenario.samplesPerQuery) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: workload: MLPerf ${scenario.name} sends ${scenario.samplesPerQuery} sample${scenario.samplesPerQuery === 1 ? '' : 's'} per query; set batch: ${scenario.samplesPerQuery}${scenario.name === 'Server' ? ' (the server may still batch queries dynamically)' : ''}, not ${batch}`)
  }
  return plan
}

/**
 * An unknown backend or model generator is a usage error at plan time (so `--list` fails too,
 * naming what is registered), not an error of every job that names it.
 */
function requirePlugins(registry: PluginRegistry, backend: string, model: ModelRef | undefined, where: string): void {
  try {
    registry.backend(backend)
    // A generator's parameters and a file's existence are known now: a typo costs --list, not a run.
    if (model?.source === 'generate') registry.generator(model.family).normalize(model.params)
    if (model?.source === 'file' && !existsSync(model.path)) {
      throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `model.file: no file ${model.path}`)
    }
  } catch (error) {
    if (error instanceof InferbenchError) throw new InferbenchError(error.code, `${where}: ${error.message}`, { cause: error })
    throw error
  }
}

/** Cartesian product of every array-valued axis, model hyper-parameter sweeps included. */
export function expandMatrix(options: MatrixOptions, where: string): Array<{ model: ModelRef | undefined; params: Record<string, Scalar> }> {
  const models = options.model === undefined ? [undefined] : asList(options.model).flatMap((m, i) => {
    if (!isModelRef(m)) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID',
        `${where}: model${Array.isArray(options.model) ? `[${i}]` : ''}: expected model.file(...), model.generate(...), model.zoo(...) or model.repo(...), received ${describeValue(m)}`)
    }
    return expandModelRef(m, where)
  })
  let combos: Array<Record<string, Scalar>> = [{}]
  for (const [axis, value] of Object.entries(options)) {
    if (value === undefined) continue
    // A bench's own option reaches here only from a describe, where it would be read as an axis.
    if ((RESERVED_BENCH_KEYS as readonly string[]).includes(axis)) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: ${axis} is an option of bench(), not of describe(): set it on each bench, e.g. bench('name', { ${axis}: … })${axis === 'probes' ? ", or for every bench in the config's measurement.probes" : ''}`)
    }
    // An empty axis multiplies the plan by zero: every job of the bench would vanish unannounced.
    if (Array.isArray(value) && value.length === 0) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: ${axis}: an empty list gives no jobs; give at least one value, or leave ${axis} out`)
    }
    if (axis === 'model') continue
    const values = asList(value).map((v, i) => checkScalar(axis, v, Array.isArray(value) ? i : undefined, where))
    if (axis === 'batch') {
      for (const v of values) {
        if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
          throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: batch: expected a positive integer, received ${describeValue(v)}`)
        }
      }
    }
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [axis]: v })))
  }
  return models.flatMap((model) => combos.map((params) => ({ model, params })))
}

/** model.generate('cnn', { layers: [2, 4] }) → two refs, layers 2 and 4. */
function expandModelRef(ref: ModelRef, where: string): ModelRef[] {
  if (ref.source !== 'generate') return [ref]
  let variants: Array<Record<string, unknown>> = [{}]
  for (const [key, value] of Object.entries(ref.params)) {
    if (Array.isArray(value) && value.length === 0) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: model.generate('${ref.family}'): ${key}: an empty list gives no models; give at least one value`)
    }
    variants = variants.flatMap((v) => asList(value).map((x) => ({ ...v, [key]: x })))
  }
  return variants.map((params) => ({ ...ref, params }))
}

function asList<T>(value: T | readonly T[]): T[] {
  return Array.isArray(value) ? [...value] : [value as T]
}

function checkScalar(axis: string, value: unknown, index: number | undefined, where: string): Scalar {
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return value
  // An object where an axis needs a value is most often a misspelt bench option (pipelin: {...}).
  const near = value !== null && typeof value === 'object' ? nearestName(axis, RESERVED_BENCH_KEYS.map((name) => ({ name }))) : undefined
  throw new InferbenchError('INFERBENCH_BENCH_INVALID',
    `${where}: ${axis}${index === undefined ? '' : `[${index}]`}: expected a string, number or boolean (or an array of them), received ${describeValue(value)}${near ? `; did you mean the bench option ${near.name}?` : ''}`)
}

function planWorkload(ref: WorkloadRef, registry: PluginRegistry, where: string): WorkloadPlan {
  try {
    return registry.workload(ref.type)(ref.options)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: workload ${ref.type}: ${message}`, { cause: error })
  }
}

function resolveWarmup(spec: WarmupSpec, where: string): Warmup | undefined {
  if (spec === false) return undefined
  if (typeof spec === 'string' || typeof spec === 'number') return { durationMs: mustDuration(spec, 'warmup', where) }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID',
      `${where}: warmup: expected a duration like '1s', { duration, requests } or false, received ${describeValue(spec)}`)
  }
  const warmup: Warmup = {}
  if (spec.duration !== undefined) warmup.durationMs = mustDuration(spec.duration, 'warmup.duration', where)
  if (spec.requests !== undefined) {
    if (!Number.isInteger(spec.requests) || spec.requests < 0) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: warmup.requests: expected a non-negative integer, received ${describeValue(spec.requests)}`)
    }
    warmup.requests = spec.requests
  }
  return warmup
}

function resolveProbes(value: unknown, registry: PluginRegistry, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: probes: expected an array of probe names such as ['cpu', 'nvidia'], received ${describeValue(value)}`)
  }
  for (const name of value as string[]) checkProbeName(registry, name, `${where}: probes`)
  return value as string[]
}

function resolveSharing(value: unknown, where: string): SharingSpec {
  const v = value as { instances?: unknown; mps?: unknown } | null
  const extra = v && typeof v === 'object' ? Object.keys(v).filter((k) => k !== 'instances' && k !== 'mps') : []
  if (!v || typeof v !== 'object' || !Number.isInteger(v.instances) || (v.instances as number) < 1 || (v.mps !== undefined && typeof v.mps !== 'boolean') || extra.length) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID',
      `${where}: sharing: expected { instances: <copies, 1 or more>, mps?: true|false }${extra.length ? ` (unknown: ${extra.join(', ')})` : ''}, received ${describeValue(value)}`)
  }
  return { instances: v.instances as number, mps: v.mps === true }
}

/** An unknown probe is a usage error at plan time, naming the registered ones. */
export function checkProbeName(registry: PluginRegistry, name: string, where: string, code: 'INFERBENCH_BENCH_INVALID' | 'INFERBENCH_CONFIG_INVALID' = 'INFERBENCH_BENCH_INVALID'): void {
  try {
    registry.probe(name)
  } catch (error) {
    if (error instanceof InferbenchError) throw new InferbenchError(code, `${where}: ${error.message}`, { cause: error })
    throw error
  }
}

function mustDuration(value: string | number, field: string, where: string): number {
  const ms = parseDurationMs(value)
  if (ms === undefined) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID',
      `${where}: ${field}: expected a duration like '500ms' or '10s', received ${JSON.stringify(value)}`)
  }
  return ms
}

function functionOptions(options: FunctionBenchOptions, where: string): FunctionJob['options'] {
  return {
    timeMs: options.time === undefined ? 500 : mustDuration(options.time, 'time', where),
    warmupTimeMs: options.warmupTime === undefined ? 100 : mustDuration(options.warmupTime, 'warmupTime', where),
    ...(options.iterations !== undefined ? { iterations: options.iterations } : {}),
    ...(options.warmupIterations !== undefined ? { warmupIterations: options.warmupIterations } : {}),
  }
}

function estimateServingMs(workload: WorkloadPlan, warmup: Warmup | undefined): number {
  const concurrency = workload.kind === 'closed' ? workload.concurrency : 1
  const warmupMs = warmup ? Math.max(warmup.durationMs ?? 0, ((warmup.requests ?? 0) * REQUEST_GUESS_MS) / concurrency) : 0
  const measureMs = workload.durationMs ?? ((workload.kind === 'closed' ? workload.requests ?? 0 : 0) * REQUEST_GUESS_MS) / concurrency
  return COLD_START_GUESS_MS + warmupMs + measureMs
}

function containsOnly(suite: SuiteNode): boolean {
  return suite.children.some((c) => c.mode === 'only' || (c.type === 'suite' && containsOnly(c)))
}
