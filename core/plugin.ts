import { InferbenchError } from './errors.ts'
import type { ModelRef } from './model-ref.ts'
import type { Job } from './plan.ts'
import type { CostSettings } from './config.ts'
import type { CostFigures, JobProgress, JobReport, Measurement, RunReport } from './report.ts'
import type { Scalar } from './types.ts'
import type { WorkloadPlan } from './workload.ts'

/**
 * The plugin contract. A plugin is plain data: a name and optional capability maps. Built-in
 * plugins are registered exactly like third-party ones (see runners/builtin-plugins.ts).
 */
export interface Plugin {
  name: string
  backends?: Record<string, BackendFactory>
  generators?: Record<string, ModelGenerator>
  workloads?: Record<string, WorkloadFactory>
  reporters?: Record<string, ReporterFactory>
  /** Static model analysis by format (e.g. { onnx: analyzeOnnxModel }): parameters, FLOPs, bytes. */
  analyzers?: Record<string, ModelAnalyzer>
  /** Resource probes sampled in the background during each measurement (cpu, memory, nvidia, ...). */
  probes?: Record<string, ProbeFactory>
  /** Backends of this plugin that can run several copies of the model at once under a bench's `sharing`. */
  sharing?: string[]
  /** Emulated network links by name (`network: 'lte'` on a bench): each puts a link in front of an address. */
  links?: Record<string, LinkFactory>
  /** Backends of this plugin that connect through BackendContext.route, so a `network` applies to them. */
  routes?: string[]
  /** Pre- and post-processing stages by name (`pipeline: { pre: processor('image') }` on a bench). */
  processors?: Record<string, Processor>
  /** Request data sets by name (`pipeline: { data: 'images' }`), built without a download. */
  dataSets?: Record<string, DataSetFactory>
  /** Backends of this plugin whose server can run a bench's pre-processing itself (`placement: 'server'`). */
  serverProcessing?: string[]
  /** Turn a measurement into energy, CO2 and cloud cost per request (config `cost.model` picks one). */
  costModels?: Record<string, CostModel>
  /**
   * The option schema of each backend this plugin offers, by backend name: its keys are the
   * matrix parameters the backend claims (a bench parameter nothing claims is a usage error).
   */
  optionSchemas?: Record<string, { shape: Record<string, unknown> }>
  /** Matrix parameters this plugin reads whatever the backend, by name, with what they mean. */
  axes?: Record<string, string>
  /** A model file's named symbolic input dimensions (with the axis of each occurrence) by format; undefined when not of the format. */
  dimReaders?: Record<string, (bytes: Uint8Array) => Array<{ name: string; axis: number }> | undefined>
}

/** Who takes a matrix parameter: a backend's options, or a plugin's axis. */
export interface AxisClaim {
  key: string
  plugin: string
  /** Set when the claim is an option of this backend only. */
  backend?: string
}

export const definePlugin = (plugin: Plugin): Plugin => plugin

// ---- backends ------------------------------------------------------------------------------

export interface ResolvedModel {
  name: string
  /** A file ORT (or a server) can load. */
  path: string
  sha256: string
  bytes: Uint8Array
  ref: ModelRef
  /** Declared sizes of symbolic input dimensions (model.file(..., { dims })); job parameters win. */
  dims?: Record<string, number>
}

export interface BackendContext {
  jobId: string
  /** The job's model; absent for benches that name none (e.g. the plain `http` backend). */
  model?: ResolvedModel
  batch: number
  /** Every matrix parameter of the job, for plugin-defined axes (intraOpThreads, seqLen, ...). */
  params: Readonly<Record<string, Scalar>>
  cacheDir: string
  /** The bench's `sharing`: run this many copies of the model at once (under CUDA MPS when asked). */
  sharing?: SharingSpec
  /** The load the job will apply: a backend may size itself for it (connections, threads). */
  load?: { open: boolean; concurrency: number }
  /**
   * Aborted when the job must stop (its timeout, Ctrl-C, the backend failed): a factory still
   * starting should give up. The runner closes the backend afterwards either way.
   */
  signal: AbortSignal
  /**
   * The address to connect to for `address` ('http://host:port', 'grpc://host:port' or
   * 'host:port'): itself, or, when the job names a `network`, a local port behind which the
   * emulated link forwards to it. Backends listed in their plugin's `routes` call it; the runner
   * always provides it (a test harness may not: then connect to `address` itself).
   */
  route?(address: string): Promise<string>
  /**
   * The bench's pipeline when its pre-processing runs on the server (`placement: 'server'`): a
   * backend listed in its plugin's `serverProcessing` starts its server with this processor, and
   * `run` then sends the raw items as one BYTES input named `raw`.
   */
  serverPre?: ProcessorSpec
  /**
   * Tells the runner the backend can no longer answer (its process or worker thread ended): the
   * job stops at once with this error as its own, keeping what it measured until then.
   */
  fail(error: Error): void
}

/** An emulated link in front of `target`: connect to the returned port instead. */
export type LinkFactory = (target: { host: string; port: number }) => Promise<{ port: number; close(): Promise<void> }>

export interface SharingSpec {
  /** Copies of the model served at once, each in its own process; requests go round-robin. */
  instances: number
  /** Start the CUDA MPS control daemon first so the copies share the GPU concurrently. */
  mps: boolean
}

/** Server-side timings of one answer, when the backend knows them (queue, compute). */
export interface ServerTimings {
  queueUs?: number
  computeUs?: number
}

export interface InferAnswer {
  serverTimings?: ServerTimings
  /** Time of each pipeline stage of this request (µs), by stage name: the prober's breakdown. */
  stages?: Record<string, number>
  /**
   * µs the request waited in the client for a free connection (every one busy at the client's
   * cap): client queueing, booked apart from network time in the latency split.
   */
  clientQueueUs?: number
}

/**
 * A tensor a pipeline builds from request data (pre-processing) or reads back (post-processing):
 * numbers in ONNX Runtime's type names, or `bytes` (KServe v2 BYTES, one Uint8Array per element)
 * for raw items a server processes itself.
 */
export interface Tensor {
  type: 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'bytes'
  dims: number[]
  data: Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | Uint8Array[]
}

/** One request's inputs by model input name. */
export type TensorMap = Record<string, Tensor>

/** What `Backend.run` answers: the outputs, and the timings `infer` gives. */
export interface RunAnswer extends InferAnswer {
  outputs: TensorMap
  /**
   * Monotonic clock (process.hrtime, µs) when the server had read the whole request and when it
   * began to send the answer: only from a server on this machine, whose clock is the same.
   */
  serverReceivedUs?: number
  serverSentUs?: number
  /** Server-side pre-processing of raw inputs (placement: 'server'), µs. */
  preprocessUs?: number
}

export interface Backend {
  /** One request with the prepared inputs. Resolves when the answer is complete; rejects on error. */
  infer(): Promise<InferAnswer | void>
  /**
   * One request with these inputs, answering the outputs (only those named in `outputs`, when
   * given): what a pipeline (request data, pre- and post-processing) sends. Backends without it
   * serve synthesised inputs only.
   */
  run?(inputs: TensorMap, outputs?: string[]): Promise<RunAnswer>
  /** The model's input and output names, for a pipeline's processors; set by backends with `run`. */
  io?: ProcessorModel
  /** Processes the backend started (a server), for probes that sample per process. */
  pids?: number[]
  /** The server's Prometheus metrics URL, for the prometheus probe. */
  metricsUrl?: string
  /** Containers the backend started, for the docker probe. */
  containers?: ContainerRef[]
  close(): Promise<void>
  /** Library versions for the run fingerprint, e.g. { onnxruntime: '1.30.0' }. */
  versions?: Record<string, string>
  /** What the backend decided: input shapes it synthesised, session options, ... */
  info?: Record<string, unknown>
  /** Backend-specific cold-start figures in ms (e.g. spawnToReadyMs), besides the runner's own. */
  coldStart?: Record<string, number>
  /**
   * Requests the warm-up keeps in flight so that everything the measurement will use gets warm:
   * every instance (worker thread, server instance) and the batch sizes dynamic batching forms.
   * The runner warms up with at least this many (at least the workload's concurrency).
   */
  warmupConcurrency?: number
  /**
   * Inference runs on the load generator's own thread, one request at a time (a session on the
   * main thread). A send held back by a run in progress waits exactly as it would in the
   * backend's queue, and its latency still counts from the intended time; only the delay beyond
   * the end of that run is the load generator's lateness.
   */
  blocksCaller?: boolean
  /**
   * Cumulative server-side counters (Triton's statistics extension), read before and after the
   * measurement; the runner reports the deltas when answers carry no timings of their own.
   * Undefined when the server keeps none (a plain KServe v2 server answers 404): not an error.
   */
  statistics?(): Promise<ServerStatistics | undefined>
}

export interface ServerStatistics {
  requests: number
  queueUs: number
  computeUs: number
}

/** The job's model, or an error saying the backend needs one. */
export function requireModel(ctx: BackendContext, backend: string): ResolvedModel {
  if (!ctx.model) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `the ${backend} backend needs a model; set 'model' on the bench or an enclosing describe`)
  }
  return ctx.model
}

/** Creates a ready-to-serve backend for one job. Its run time counts as cold start. */
export type BackendFactory = (ctx: BackendContext) => Promise<Backend>

// ---- request data and processors -----------------------------------------------------------

/** A processor as a bench names it: plain data, so it travels to a server or a follower. */
export interface ProcessorSpec {
  type: string
  options: Record<string, unknown>
}

/** One request-data item: a file's bytes (image, video) or a text, named by where it came from (path, path:line). */
export interface DataItem {
  source: string
  bytes?: Uint8Array
  text?: string
  /** Ready model inputs of one sample (a JSONL set's tensors), stacked into the batch as they are. */
  tensors?: TensorMap
}

export interface DataSetContext {
  cacheDir: string
}

/** Builds (or reads from the cache) a data set's items. */
export type DataSetFactory = (ctx: DataSetContext) => Promise<DataItem[]>

/** What a processor knows of the model it feeds or reads. */
export interface ProcessorModel {
  inputs: string[]
  outputs: string[]
  /** Input shapes by name, when the backend knows them: a number per fixed dimension, -1 or a name for a free one. */
  shapes?: Record<string, Array<number | string>>
}

/** A pre-processing stage: a batch of items → the model's inputs. */
export type PreprocessFn = (items: DataItem[]) => Promise<TensorMap> | TensorMap
/** A post-processing stage: the model's outputs → a result (top-k labels, ...). */
export type PostprocessFn = (outputs: TensorMap) => unknown

export type Processor =
  | {
    stage: 'pre'
    /** Which items it reads: the bytes of a file, or a text. */
    reads: 'bytes' | 'text'
    /** Checks the options and throws an Error naming the bad one (at plan time too). */
    check(options: Record<string, unknown>): void
    create(options: Record<string, unknown>, model: ProcessorModel): PreprocessFn | Promise<PreprocessFn>
  }
  | {
    stage: 'post'
    check(options: Record<string, unknown>): void
    create(options: Record<string, unknown>, model: ProcessorModel): PostprocessFn | Promise<PostprocessFn>
    /** The model outputs it reads: only these are asked for (a service answers labels, not every hidden state). Default: all. */
    outputs?(options: Record<string, unknown>, model: ProcessorModel): string[]
  }

// ---- model generators ----------------------------------------------------------------------

export interface ModelGenerator {
  /** Bump when the generated graph changes: it is part of the on-disk cache key. */
  version: number
  description?: string
  /** Checks hyper-parameters and fills defaults; throws an InferbenchError naming a bad field. */
  normalize(params: Record<string, unknown>): Record<string, Scalar>
  /**
   * Serialised ONNX ModelProto, deterministic for the same parameters. With `weights: false`,
   * weight initializers carry shapes but no data: enough for static analysis, not to run.
   */
  generate(params: Record<string, Scalar>, options?: { weights?: boolean }): Uint8Array | Promise<Uint8Array>
  /** Input dimensions the model declares symbolically, with their defaults (e.g. { seqLen: 128 }). */
  dims?(params: Record<string, Scalar>): Record<string, number>
}

// ---- model analysis ------------------------------------------------------------------------

/** What the report carries per job about its model, for the roofline and the leaderboard. */
export interface ModelStats {
  params: number
  weightBytes: number
  /** FLOPs of one request at the job's batch (a multiply-add counts 2). */
  flops: number
  macs: number
  /** Memory traffic of one request, bytes. */
  bytes: number
  /** Operators that could not be counted (never silently zero). */
  uncounted: string[]
}

/** Returns undefined when the model is not of its format. */
export type ModelAnalyzer = (model: ResolvedModel, shapes: { batch: number; dims: Record<string, number> }) => ModelStats | undefined

// ---- workloads -----------------------------------------------------------------------------

/** Validates a workload's options and returns its plan; throws an InferbenchError naming the field. */
export type WorkloadFactory = (options: Record<string, unknown>) => WorkloadPlan

// ---- reporters -----------------------------------------------------------------------------

/** Where a reporter writes text (process.stdout, or a buffer in tests). */
export interface TextSink {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface ReporterOptions {
  root: string
  outputFile?: string
  stdout: TextSink
  /** For a line beside the console report (where a file was written): stderr when a reporter owns stdout. */
  notes?: TextSink
  /** The PerfDB this run is stored in (false: none), for reporters that show history. */
  perfDb?: string | false
}

export interface Reporter {
  onRunStart?(jobs: readonly Job[]): void | Promise<void>
  onJobStart?(job: Job): void | Promise<void>
  /** Not awaited: a progress tick must not slow the measurement. */
  onJobProgress?(job: Job, progress: JobProgress): void
  onJobEnd?(job: Job, report: JobReport): void | Promise<void>
  onRunEnd?(run: RunReport): void | Promise<void>
}

export type ReporterFactory = (options: ReporterOptions) => Reporter

// ---- probes --------------------------------------------------------------------------------

export interface ProbeContext {
  /** The processes doing the job's work: this one, and any the backend started (a server). */
  pids: number[]
  /** The backend's Prometheus metrics endpoint, when it has one (our server's /metrics). */
  metricsUrl?: string
  /** Containers the backend runs the model in (docker), with the engine socket that runs them. */
  containers?: ContainerRef[]
  /** This probe's options from the config (measurement.probeOptions.<name>); {} when none. */
  options?: Record<string, unknown>
}

export interface ContainerRef {
  id: string
  /** The Docker Engine's unix socket. */
  socketPath: string
}

/** A resource probe: static facts once, then samples of named series at the sampling interval. */
export interface Probe {
  /** Facts that do not change during the job (GPU name, driver, memory total). */
  describe?(): Record<string, string | number> | Promise<Record<string, string | number>>
  /** One sample: values by series name, e.g. { systemCpuPct: 43.2, processRssMb: 512 }. */
  sample(): Record<string, number> | Promise<Record<string, number>>
}

/** A probe, or why it cannot run here (no GPU, not Linux): reported as such, never as zeros. */
export type ProbeFactory = (ctx: ProbeContext) => Promise<Probe | { unavailable: string }>

// ---- cost ----------------------------------------------------------------------------------

export interface CostInput {
  /** What the job measured: its duration, answered requests, throughput, batch and probe summaries. */
  measurement: Pick<Measurement, 'durationMs' | 'requests' | 'throughput' | 'probes' | 'batch'>
  /** The config's `cost` section. */
  settings: CostSettings
}

export interface CostModel {
  /** A problem with the settings (an unknown region or instance), found before any job runs. */
  check?(settings: CostSettings): string | undefined
  compute(input: CostInput): CostFigures
}

// ---- registry ------------------------------------------------------------------------------

type Capability = 'backends' | 'generators' | 'workloads' | 'reporters' | 'analyzers' | 'probes' | 'costModels' | 'links' | 'processors' | 'dataSets'
const CAPABILITIES: Capability[] = ['backends', 'generators', 'workloads', 'reporters', 'analyzers', 'probes', 'costModels', 'links', 'processors', 'dataSets']
const NOUN: Record<Capability, string> = {
  backends: 'backend', generators: 'model generator', workloads: 'workload', reporters: 'reporter', analyzers: 'model analyzer', probes: 'probe',
  costModels: 'cost model', links: 'network', processors: 'processor', dataSets: 'data set',
}

export interface PluginRegistry {
  plugins: readonly Plugin[]
  backend(name: string): BackendFactory
  generator(name: string): ModelGenerator
  workload(name: string): WorkloadFactory
  reporter(name: string): ReporterFactory
  probe(name: string): ProbeFactory
  costModel(name: string): CostModel
  link(name: string): LinkFactory
  processor(name: string): Processor
  dataSet(name: string): DataSetFactory
  /** Whether a backend's server can run pre-processing itself (placement: 'server'). */
  processesOnServer(backend: string): boolean
  /** Whether a backend connects through BackendContext.route (a `network` applies to it). */
  routes(backend: string): boolean
  /** Every registered model analyzer, in plugin order. */
  analyzers(): ModelAnalyzer[]
  /** Every matrix parameter a plugin claims (backend options and plugin axes). */
  claims(): AxisClaim[]
  /** Whether a backend can serve several copies under a bench's `sharing`. */
  shares(backend: string): boolean
  /** Symbolic input dims of a model file (name, axis), from the first reader that knows its format. */
  symbolicDims(bytes: Uint8Array): Array<{ name: string; axis: number }> | undefined
  /** Problems with the values a job's parameters give its backend's options ('intraOpThreads: expected number'). */
  optionProblems(backend: string, params: Readonly<Record<string, unknown>>): string[]
  /** A backend's options for a job: those its parameters set, and its schema's defaults for the rest. */
  resolvedOptions(backend: string, params: Readonly<Record<string, unknown>>): { set: Record<string, unknown>; defaults: Record<string, unknown> }
  names(capability: Capability): string[]
}

/** Merges plugins; a name offered by two plugins is an error naming both, never a silent override. */
export function createRegistry(plugins: readonly Plugin[]): PluginRegistry {
  const maps = Object.fromEntries(CAPABILITIES.map((c) => [c, new Map<string, { owner: string; value: unknown }>()])) as
    Record<Capability, Map<string, { owner: string; value: unknown }>>
  for (const plugin of plugins) {
    for (const capability of CAPABILITIES) {
      for (const [name, value] of Object.entries(plugin[capability] ?? {})) {
        const existing = maps[capability].get(name)
        if (existing) {
          throw new InferbenchError('INFERBENCH_PLUGIN_CONFLICT',
            `${NOUN[capability]} '${name}' is provided by both plugin '${existing.owner}' and plugin '${plugin.name}'; remove one of them or rename the ${NOUN[capability]}`)
        }
        maps[capability].set(name, { owner: plugin.name, value })
      }
    }
  }
  function lookup<T>(capability: Capability, name: string): T {
    const entry = maps[capability].get(name)
    if (!entry) {
      const known = [...maps[capability].keys()].join(', ') || 'none'
      throw new InferbenchError('INFERBENCH_PLUGIN_MISSING',
        `unknown ${NOUN[capability]} '${name}'; registered: ${known}. Add the plugin that provides it to 'plugins' in your config`)
    }
    return entry.value as T
  }
  const optionSchemaOf = (backend: string) => plugins.map((p) => p.optionSchemas?.[backend]).find(Boolean)
  return {
    plugins,
    backend: (name) => lookup('backends', name),
    generator: (name) => lookup('generators', name),
    workload: (name) => lookup('workloads', name),
    reporter: (name) => lookup('reporters', name),
    probe: (name) => lookup('probes', name),
    costModel: (name) => lookup('costModels', name),
    link: (name) => lookup('links', name),
    processor: (name) => lookup('processors', name),
    dataSet: (name) => lookup('dataSets', name),
    processesOnServer: (backend) => plugins.some((p) => p.serverProcessing?.includes(backend)),
    routes: (backend) => plugins.some((p) => p.routes?.includes(backend)),
    analyzers: () => [...maps.analyzers.values()].map((e) => e.value as ModelAnalyzer),
    claims: () => plugins.flatMap((p) => [
      ...Object.entries(p.optionSchemas ?? {}).flatMap(([backend, schema]) => Object.keys(schema.shape).map((key) => ({ key, plugin: p.name, backend }))),
      ...Object.keys(p.axes ?? {}).map((key) => ({ key, plugin: p.name })),
    ]),
    shares: (backend) => plugins.some((p) => p.sharing?.includes(backend)),
    symbolicDims: (bytes) => {
      for (const p of plugins) {
        for (const read of Object.values(p.dimReaders ?? {})) {
          const dims = read(bytes)
          if (dims) return dims
        }
      }
      return undefined
    },
    optionProblems: (backend, params) => {
      const schema = optionSchemaOf(backend)
      const problems: string[] = []
      for (const [key, field] of Object.entries(schema?.shape ?? {})) {
        if (params[key] === undefined) continue
        const parsed = (field as { safeParse?: (v: unknown) => { success: boolean; error?: { issues: Array<{ message: string }> } } }).safeParse?.(params[key])
        if (parsed && !parsed.success) problems.push(`${key}=${JSON.stringify(params[key])}: ${parsed.error?.issues[0]?.message ?? 'invalid value'}`)
      }
      return problems
    },
    resolvedOptions: (backend, params) => {
      const schema = optionSchemaOf(backend)
      const set: Record<string, unknown> = {}
      const defaults: Record<string, unknown> = {}
      for (const [key, field] of Object.entries(schema?.shape ?? {})) {
        if (params[key] !== undefined) set[key] = params[key]
        else {
          const parsed = (field as { safeParse?: (v: unknown) => { success: boolean; data?: unknown } }).safeParse?.(undefined)
          if (parsed?.success && parsed.data !== undefined) defaults[key] = parsed.data
        }
      }
      return { set, defaults }
    },
    names: (c) => [...maps[c].keys()],
  }
}

/**
 * Connections a client backend should allow: as many as the workload keeps in flight (its
 * closed-loop clients, or an open loop's maxOutstanding), so load is never held back in the
 * client by a pool smaller than the load. Connections open lazily, only as requests need them.
 */
export function connectionsFor(ctx: Pick<BackendContext, 'load'>): number {
  return Math.max(1, ctx.load?.concurrency ?? 64)
}
