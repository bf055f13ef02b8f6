import type { SerializedError } from './errors.ts'
import type { Fingerprint } from './fingerprint.ts'
import type { LatencySummary } from './stats/histogram.ts'
import type { MlperfResult } from './stats/mlperf.ts'
import type { SloVerdict } from './stats/slo.ts'
import type { Stability } from './stats/stability.ts'
import type { Validity } from './stats/validity.ts'
import type { Scalar } from './types.ts'

/** What one job measured. Field names are stable: the JSON report and later tools read them. */
/** What one probe saw during a measurement. */
export type ProbeResult =
  | {
    available: true
    /** Facts that did not change (GPU name, driver, memory total). */
    info?: Record<string, string | number>
    /** Mean and maximum of each series over the measurement. */
    summary: Record<string, { mean: number; max: number }>
    /** The time series: sample times (ms from the measurement's start) and each series' values. */
    samples: { atMs: number[]; series: Record<string, number[]> }
  }
  | { available: false; reason: string }

/** How one part of the machine's power was found. */
export interface PowerPart {
  part: 'cpu' | 'gpu'
  watts: number
  basis: 'measured' | 'estimated'
  /** Where the figure came from, e.g. 'rapl package power' or '2 cores × (0.74 + 31% × (3.5 − 0.74)) W'. */
  how: string
}

/**
 * Energy, CO2 and cloud cost of the job's requests. Energy is the machine's (the power of what
 * was measured or estimated, over the measurement) divided by the answered requests: on a busy
 * machine it includes everything else running. Each part says whether it was measured or estimated.
 */
export interface CostFigures {
  energy?: { perRequestJ: number; perSampleJ: number; powerW: number; basis: 'measured' | 'estimated' | 'mixed'; parts: PowerPart[] }
  co2?: { perRequestG: number; gramsPerKWh: number; grid: string; source: string }
  cloud?: { instance: string; usdPerHour: number; perMillionRequestsUsd: number; source: string }
  /** Why a figure is absent (no power probe ran, no instance named). */
  missing?: string[]
}

export interface Measurement {
  latency: LatencySummary
  throughput: { requestsPerSec: number; samplesPerSec: number }
  requests: {
    ok: number
    errors: number
    /** Open loop: sent later than the late threshold after their intended time. */
    late: number
    /** Open loop: not sent because too many requests were outstanding. */
    overflow: number
    /** Open loop: arrivals in the schedule. */
    scheduled?: number
  }
  /**
   * Open loop, requests per second: `offered` is the workload's nominal rate, `scheduled` what the
   * generated schedule actually holds (a Poisson draw varies), `achieved` answers over the run.
   */
  rate?: { offered: number; scheduled: number; achieved: number }
  /** Open loop: how late sends left against their intended times (ms). */
  sendDelay?: { mean: number; p99: number; max: number }
  batch: number
  durationMs: number
  /**
   * CPU time of the benchmarking process over the measurement, all its threads: the load
   * generator and client, plus inference for an in-process backend (a server in its own process
   * is not counted). `perRequestUs` per answered request; `cores` = CPU time / wall time.
   */
  processCpu?: { userMs: number; systemMs: number; perRequestUs: number; cores: number }
  /** Resource probes sampled during the measurement (measurement.probes), by name. */
  probes?: Record<string, ProbeResult>
  /** Energy, CO2 and cloud cost per request, from the probes and the config's `cost` tables. */
  cost?: CostFigures
  stability: Stability
  validity: Validity
  /** HdrHistogram compressed base64 of latencies in microseconds. */
  histogram?: string
  coldStartMs?: number
  coldStart?: Record<string, number>
  /**
   * Mean server-side timings (ms): from the answers themselves, or from the deltas of the
   * server's statistics over the measurement (`source`). Latency minus these is client + network.
   */
  serverTimings?: { queueMs?: number; computeMs?: number; answers: number; source: 'answers' | 'statistics' }
  /**
   * Requests that waited in the client for a free connection (the load exceeded the client's
   * connection cap): mean wait over all answers, and how many waited. Booked apart from network.
   */
  clientQueue?: { meanMs: number; queuedAnswers: number }
  /**
   * A pipeline's per-request stage times (the bench's `pipeline`), each summarised like
   * `latency` (ms), in the order a request passes them: preprocess, request, queue, inference,
   * server, response (or network), postprocess.
   */
  stages?: Record<string, LatencySummary>
  /**
   * The stages' means added up beside the mean latency: they cover the same time, so the two
   * agree unless the load generator held requests back (open loop) or clocks disagree.
   */
  stageSum?: { sumOfMeansMs: number; latencyMeanMs: number }
  /** An MLPerf scenario's metric and LoadGen's verdict on the run (workload.singleStream/multiStream/server/offline). */
  mlperf?: MlperfResult
  /** A sample of the request errors, when there were any. */
  firstError?: string
  /** Measurements taken: above 1 when an unstable one was taken again (measurement.stabilityRetries). */
  attempts?: number
  /** A peak search (workload.findPeak): the goodput it found and every step it measured. */
  peak?: PeakResult
  /** A ramp (workload.ramp): every rate's step; the job's own figures are its highest valid step's. */
  ramp?: { steps: PeakResult['steps'] }
  /** Extra named figures returned by the bench's check. */
  extra?: Record<string, number>
}

export interface PeakResult {
  /** The highest rate that met the SLO (req/s), the offered rate of the reported measurement; undefined: none did. */
  goodputRps?: number
  goodputSamplesPerSec?: number
  /**
   * What ended the climb above the goodput: 'slo' (the next rate missed it) or 'load-generator'
   * (the next rate could not be sent on time: the goodput is a lower bound, the SLO not reached).
   */
  boundBy?: 'slo' | 'load-generator'
  slo: string
  steps: Array<{ rate: number; achievedRps: number; p50: number; p99: number; answers: number; valid: boolean; stable: boolean; meets: boolean; why?: string }>
  /** Why the search ended: the bracket closed to `precision`, the step budget ran out, or a bound was reached. */
  stoppedBy: 'precision' | 'max-steps' | 'high' | 'low'
}

export interface JobModelInfo {
  name: string
  source: string
  sha256: string
  path: string
  /** Static analysis at the job's batch and dims, when an analyzer knows the format. */
  params?: number
  flops?: number
  macs?: number
  bytes?: number
  weightBytes?: number
  uncounted?: string[]
}

interface JobReportBase {
  id: string
  suite: string
  name: string
  file: string
  kind: 'serving' | 'function'
  params: Record<string, Scalar>
  estimateMs: number
  slo: SloVerdict[]
  model?: JobModelInfo
  backendInfo?: Record<string, unknown>
  /** The machine's quiet check before the job (measurement.idle): how long it waited and what it saw. */
  idleCheck?: IdleCheck
  /** Every setting the job ran with, beyond its params: to reproduce it (inferbench show). */
  settings?: JobSettings
}

export interface IdleCheck {
  /** How much later the job started: every window looked at, the first included. */
  waitedMs: number
  /** The machine's CPU utilisation (%) over the last window, and the busiest GPU's. */
  cpuPct: number
  gpuPct?: number
}

export interface JobSettings {
  workload: { label: string; kind: 'closed' | 'open'; concurrency?: number; offeredRate?: number; durationMs?: number; requests?: number; maxOutstanding?: number }
  warmup: { durationMs?: number; requests?: number } | false
  probes: string[]
  sharing?: { instances: number; mps: boolean }
  /** The config's measurement section as resolved (windows, tolerances, limits). */
  measurement: Record<string, unknown>
}

export type JobReport =
  | (JobReportBase & Measurement & { status: 'passed' })
  | (JobReportBase & Measurement & { status: 'failed'; failures: string[] })
  | (JobReportBase & Partial<Measurement> & { status: 'errored'; error: SerializedError })
  | (JobReportBase & { status: 'skipped'; reason: string })

export type JobStatus = JobReport['status']

export interface JobProgress {
  phase: 'idle-wait' | 'cold-start' | 'warmup' | 'measure'
  elapsedMs: number
  ok: number
  errors: number
  /** Answers per second over the last progress interval. */
  currentRate: number
  /** Fraction done, when known. */
  fraction?: number
}

export interface RunReport {
  startedAt: string
  finishedAt: string
  durationMs: number
  fingerprint: Fingerprint
  jobs: JobReport[]
  counts: Record<JobStatus, number>
  /** Set when the run stopped early (--bail, interrupt). */
  stoppedEarly?: string
}
