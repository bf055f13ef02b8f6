import { isAbsolute, resolve } from 'node:path'
import { currentBenchFile } from './collector.ts'
import type { ResolvedSlo } from './stats/slo.ts'
import type { SloSpec } from './tree.ts'
import type { Duration } from './types.ts'

/**
 * A workload as a bench names it: plain data, turned into a concrete plan (an arrival schedule
 * or a closed-loop client count) by the workload plugin of that `type`.
 */
export interface WorkloadRef {
  type: string
  options: Record<string, unknown>
}

export interface ClosedWorkloadOptions {
  /** Clients, each sending its next request when the previous one answered. Default 1. */
  concurrency?: number
  /** Stop after this long (measurement only, warm-up excluded). */
  duration?: Duration
  /** Stop after this many answered requests. */
  requests?: number
}

export interface OpenWorkloadOptions {
  /** Offered load in requests per second. */
  rate: number
  duration: Duration
  /** Requests in flight above which a new arrival is counted as overflow instead of sent. */
  maxOutstanding?: number
}

export interface BurstWorkloadOptions {
  rate: number
  on: Duration
  off: Duration
  offRate?: number
  duration: Duration
  seed?: number
  maxOutstanding?: number
}

export interface TraceWorkloadOptions {
  /** CSV (a header naming `column`, or one unnamed column) or JSONL (objects with `column`). */
  file: string
  /** Units of the times: 's' (default), 'ms' or 'us'. */
  unit?: 's' | 'ms' | 'us'
  /** Default 'arrival'. */
  column?: string
  /** Replay faster (2) or slower (0.5) than recorded. */
  speed?: number
  maxOutstanding?: number
}

export interface RampWorkloadOptions {
  /** First and last rate (req/s). */
  from: number
  to: number
  /** Rates measured, evenly spaced from `from` to `to` (at least 2). */
  steps: number
  /** Length of each step. */
  step: Duration
  seed?: number
  maxOutstanding?: number
}

export interface PeakSearchOptions {
  /** Latency limits every step must meet, e.g. { p99: '50ms' }. */
  slo: Pick<SloSpec, 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'mean'>
  /** First rate tried (req/s); default: 70% of a short closed-loop probe's throughput. */
  low?: number
  /** Never try above this rate (req/s). */
  high?: number
  /** Length of one step; lengthened so the SLO's percentile rests on enough answers. Default 2s. */
  step?: Duration
  /** Stop when the failing and passing rates are within this fraction. Default 0.05. */
  precision?: number
  /** At most this many steps. Default 12. */
  maxSteps?: number
  seed?: number
  maxOutstanding?: number
}

/** A peak search, carried by the open-loop plan of its first step. */
export interface PeakSearch {
  slo: ResolvedSlo
  /** 'p99 ≤ 50 ms'. */
  sloLabel: string
  low?: number
  high?: number
  stepMs: number
  precision: number
  maxSteps: number
  seed: number
}

export interface SingleStreamOptions {
  /** Default LoadGen's minimum, 600 s: shorter gives an estimate the report marks as such. */
  duration?: Duration
  queries?: number
}

export interface MultiStreamOptions extends SingleStreamOptions {
  /** Samples per query (LoadGen: 8); the bench's batch must equal it. */
  samplesPerQuery?: number
}

export interface ServerScenarioOptions {
  /** Target queries per second. */
  rate: number
  /** The 99th-percentile latency bound (ResNet-50: '15ms', BERT: '130ms'). */
  latencyBound: Duration
  duration?: Duration
  seed?: number
  maxOutstanding?: number
}

export interface OfflineOptions {
  /** Samples in the one query; default LoadGen's 24,576. Sent as requests of `batch` samples. */
  samples?: number
  /** Requests in flight at once. Default 8. */
  concurrency?: number
}

/** An MLPerf LoadGen scenario a plan follows: its metric and rules (plugins/workloads/mlperf.ts cites them). */
export interface MlperfScenario {
  name: 'SingleStream' | 'MultiStream' | 'Server' | 'Offline'
  /** The percentile the metric or the bound is about (0.9, 0.99). */
  percentile: number
  samplesPerQuery: number
  minDurationMs: number
  minQueries?: number
  minSamples?: number
  latencyBoundMs?: number
}

export interface PoissonWorkloadOptions extends OpenWorkloadOptions {
  /** Seed of the arrival schedule; the same seed gives the same schedule. Default 1. */
  seed?: number
}

/** A path as the bench file names it: relative to the bench file's folder, as model.file() takes it. */
export function fromBenchFile(path: string): string {
  if (typeof path !== 'string' || isAbsolute(path)) return path
  const file = currentBenchFile()
  return resolve(file ? resolve(file, '..') : process.cwd(), path)
}

function ref(type: string, options: object): WorkloadRef {
  return { type, options: { ...options } }
}

export const workload = {
  /** Closed loop: `concurrency` clients back to back (throughput-oriented, like perf_analyzer's concurrency mode). */
  closed: (options: ClosedWorkloadOptions = {}): WorkloadRef => ref('closed', options),
  /** Open loop, evenly spaced arrivals at `rate` per second. */
  constant: (options: OpenWorkloadOptions): WorkloadRef => ref('constant', options),
  /** Open loop, Poisson arrivals (exponential gaps) at mean `rate` per second, from `seed`. */
  poisson: (options: PoissonWorkloadOptions): WorkloadRef => ref('poisson', options),
  /**
   * The highest Poisson arrival rate that still meets `slo` (goodput): a doubling then binary
   * search over rates, each step a valid, stable measurement (LoadGen's FindPeakPerformance,
   * perf_analyzer's binary search). The job reports the measurement at that rate.
   */
  findPeak: (options: PeakSearchOptions): WorkloadRef => ref('findPeak', options),
  /** On/off traffic: Poisson at `rate` for `on`, at `offRate` (default 0) for `off`, repeating for `duration`. */
  burst: (options: BurstWorkloadOptions): WorkloadRef => ref('burst', options),
  /** Replays arrival times from a CSV or JSONL file (a relative path is taken from the bench file's folder). */
  trace: (options: TraceWorkloadOptions): WorkloadRef => ref('trace', { ...options, file: fromBenchFile(options.file) }),
  /** Poisson rates rising in steps, each measured and reported on its own: a throughput-vs-rate curve. */
  ramp: (options: RampWorkloadOptions): WorkloadRef => ref('ramp', options),
  /** MLPerf SingleStream: one sample per query, back to back; metric the 90th percentile, LoadGen's early-stopping estimate beside it. */
  singleStream: (options: SingleStreamOptions = {}): WorkloadRef => ref('singleStream', options),
  /** MLPerf MultiStream: `samplesPerQuery` (8) samples per query, back to back; metric the 99th-percentile query latency. */
  multiStream: (options: MultiStreamOptions = {}): WorkloadRef => ref('multiStream', options),
  /** MLPerf Server: Poisson queries at `rate`; valid when the 99th percentile is within `latencyBound` and early stopping passes. */
  server: (options: ServerScenarioOptions): WorkloadRef => ref('server', options),
  /** MLPerf Offline: all `samples` at once, the system batching freely; metric samples per second. */
  offline: (options: OfflineOptions = {}): WorkloadRef => ref('offline', options),
  /** A workload from a plugin, by name. */
  use: (type: string, options: Record<string, unknown> = {}): WorkloadRef => ref(type, options),
}

/**
 * What a workload plugin turns a WorkloadRef into. Open-loop plans carry the whole schedule,
 * generated up front (as MLPerf LoadGen does), in milliseconds from the measurement start.
 */
export type WorkloadPlan = ClosedWorkloadPlan | OpenWorkloadPlan

export interface ClosedWorkloadPlan {
  kind: 'closed'
  label: string
  concurrency: number
  durationMs?: number
  requests?: number
  scenario?: MlperfScenario
}

export interface OpenWorkloadPlan {
  kind: 'open'
  label: string
  offeredRate: number
  durationMs: number
  arrivalsMs: Float64Array
  maxOutstanding?: number
  /** A peak search: the runner measures step after step at rates it chooses (runners/find-peak.ts). */
  search?: PeakSearch
  /** A ramp: the runner measures each of these rates in turn (runners/ramp.ts). */
  ramp?: { rates: number[]; stepMs: number; seed: number }
  scenario?: MlperfScenario
}

export function isWorkloadRef(value: unknown): value is WorkloadRef {
  return value !== null && typeof value === 'object' && typeof (value as WorkloadRef).type === 'string'
    && typeof (value as WorkloadRef).options === 'object'
}
