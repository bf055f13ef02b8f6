import type { PipelineSpec } from './pipeline.ts'
import type { ModelRef } from './model-ref.ts'
import type { AxisValue, Duration, Scalar } from './types.ts'
import type { WorkloadRef } from './workload.ts'

/** Matrix axes of a describe or bench: an array means "sweep". Plugins may define more axes. */
export interface MatrixOptions {
  model?: AxisValue<ModelRef>
  backend?: AxisValue<string>
  batch?: AxisValue<number>
  [axis: string]: unknown
}

export interface SloSpec {
  p50?: Duration
  p90?: Duration
  p95?: Duration
  p99?: Duration
  p999?: Duration
  mean?: Duration
  /** Minimum requests per second. */
  throughput?: number
  /** Maximum fraction of failed requests: 0.01 or '1%'. */
  errorRate?: number | string
}

export type WarmupSpec = Duration | false | { duration?: Duration; requests?: number }

export interface BenchOptions extends MatrixOptions {
  workload?: WorkloadRef
  warmup?: WarmupSpec
  slo?: SloSpec
  /** Resource probes for this bench's jobs instead of the config's measurement.probes, e.g. ['cpu', 'nvidia']. */
  probes?: string[]
  /** GPU sharing: serve `instances` copies of the model at once, under CUDA MPS with `mps: true` (backend 'server'). */
  sharing?: { instances: number; mps?: boolean }
  /**
   * Real requests instead of synthesised tensors: a data set, pre-processing (on the client, or on
   * the server with `placement: 'server'`) and post-processing, each stage timed (jobs[].stages).
   */
  pipeline?: PipelineSpec
  /**
   * Pins the job's id instead of hashing file, describe path, name and parameters: what
   * `inferbench submit` writes so a cluster's results compare with the same job run locally.
   * Only for a bench that plans one job.
   */
  id?: string
}

/** Options of a plain function micro-benchmark, passed to tinybench. */
export interface FunctionBenchOptions {
  time?: Duration
  iterations?: number
  warmupTime?: Duration
  warmupIterations?: number
}

/** What a bench's check callback receives: the job's measured figures. */
export interface CheckContext {
  id: string
  name: string
  params: Record<string, Scalar>
  latency: { p50: number; p90: number; p95: number; p99: number; p999: number; max: number; mean: number; stdev: number }
  throughput: { requestsPerSec: number; samplesPerSec: number }
  requests: { ok: number; errors: number; late: number; overflow: number }
  coldStartMs?: number
  /** Open loop: how late sends left against their intended times (ms). */
  sendDelay?: { mean: number; p99: number; max: number }
  /** CPU time of the benchmarking process over the measurement (see the JSON report's processCpu). */
  processCpu?: { userMs: number; systemMs: number; perRequestUs: number; cores: number }
  /** The model file the job ran, for checks that measure a reference on the same model. */
  model?: { name: string; path: string; sha256: string }
  /** What the backend decided (inputs it synthesised, session options, ...). */
  backendInfo?: Record<string, unknown>
}

/** A check throws to fail the job; it may return extra named figures to report with it. */
export type CheckFn = (result: CheckContext) => void | Record<string, number> | Promise<void | Record<string, number>>

export type Hook = () => unknown
export type Mode = 'run' | 'skip' | 'only'

export interface SuiteNode {
  type: 'suite'
  name: string
  file: string
  mode: Mode
  options: MatrixOptions
  children: Array<SuiteNode | BenchNode>
  beforeAll: Hook[]
  afterAll: Hook[]
}

export interface BenchNode {
  type: 'bench'
  name: string
  file: string
  mode: Mode
  /** A serving benchmark: matrix overrides, workload, warm-up, SLO. */
  options?: BenchOptions
  check?: CheckFn
  /** A plain function micro-benchmark. */
  fn?: () => unknown
  fnOptions?: FunctionBenchOptions
}

export const RESERVED_BENCH_KEYS = ['workload', 'warmup', 'slo', 'probes', 'sharing', 'pipeline', 'id'] as const
