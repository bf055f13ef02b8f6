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

export interface PoissonWorkloadOptions extends OpenWorkloadOptions {
  /** Seed of the arrival schedule; the same seed gives the same schedule. Default 1. */
  seed?: number
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
}

export interface OpenWorkloadPlan {
  kind: 'open'
  label: string
  offeredRate: number
  durationMs: number
  arrivalsMs: Float64Array
  maxOutstanding?: number
}

export function isWorkloadRef(value: unknown): value is WorkloadRef {
  return value !== null && typeof value === 'object' && typeof (value as WorkloadRef).type === 'string'
    && typeof (value as WorkloadRef).options === 'object'
}
