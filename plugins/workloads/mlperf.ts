import { z } from 'zod'
import { durationSchema, poissonArrivals, type WorkloadFactory } from '../../core/plugin-api.ts'
import { parseOptions } from './parse-options.ts'

/**
 * The four MLPerf Inference scenarios as LoadGen runs them. Rules and defaults from LoadGen's
 * mlperf.conf (mlcommons/inference, loadgen/mlperf.conf) and its results check (results.cc):
 * - SingleStream: one sample per query, the next query sent when the last answered; metric the
 *   90th-percentile latency, with LoadGen's early-stopping estimate; at least 600 s.
 * - MultiStream: 8 samples per query, sent back to back; metric the 99th-percentile query
 *   latency (early stopping); at least 600 s and 662 queries.
 * - Server: Poisson arrivals of one-sample queries at a target rate; valid only when the 99th
 *   percentile is within the latency bound (ResNet-50 15 ms, BERT 130 ms) and early stopping
 *   succeeds with the queries over it; at least 600 s.
 * - Offline: all samples in one query, the system free to batch them; metric samples per second;
 *   at least 600 s and 24,576 samples (ResNet-50).
 * `minDuration` defaults to LoadGen's 600 s; a shorter one gives a performance estimate the report
 * marks as below LoadGen's minimum, not a valid MLPerf result.
 */
const LOADGEN_MIN_DURATION_MS = 600_000

const positiveDuration = durationSchema.refine((ms) => ms > 0, 'expected a duration above zero')

const singleStreamSchema = z.strictObject({
  /** Run this long (measurement only); default LoadGen's 600 s minimum. */
  duration: positiveDuration.default(LOADGEN_MIN_DURATION_MS),
  /** Stop after this many queries instead (or as well, whichever first). */
  queries: z.number().int().positive().optional(),
})

const multiStreamSchema = singleStreamSchema.extend({
  samplesPerQuery: z.number().int().positive().default(8),
})

const serverSchema = z.strictObject({
  /** Target queries per second (LoadGen's target_qps). */
  rate: z.number().positive(),
  /** The 99th percentile must be within this (LoadGen's target_latency; ResNet-50 15ms, BERT 130ms). */
  latencyBound: positiveDuration,
  duration: positiveDuration.default(LOADGEN_MIN_DURATION_MS),
  seed: z.number().int().nonnegative().default(1),
  maxOutstanding: z.number().int().positive().optional(),
})

const offlineSchema = z.strictObject({
  /** Samples in the one query (LoadGen's min_query_count for Offline: 24,576 for ResNet-50). */
  samples: z.number().int().positive().default(24_576),
  /** Requests in flight at once: the client's share of the system's freedom to batch. */
  concurrency: z.number().int().positive().default(8),
})

export const singleStream: WorkloadFactory = (options) => {
  const o = parseOptions(singleStreamSchema, options)
  return {
    kind: 'closed', label: `SingleStream(${o.duration / 1000}s${o.queries ? `, ${o.queries} queries` : ''})`, concurrency: 1, durationMs: o.duration,
    ...(o.queries ? { requests: o.queries } : {}),
    scenario: { name: 'SingleStream', percentile: 0.9, samplesPerQuery: 1, minDurationMs: LOADGEN_MIN_DURATION_MS },
  }
}

export const multiStream: WorkloadFactory = (options) => {
  const o = parseOptions(multiStreamSchema, options)
  return {
    kind: 'closed', label: `MultiStream(${o.samplesPerQuery}/query, ${o.duration / 1000}s)`, concurrency: 1, durationMs: o.duration,
    ...(o.queries ? { requests: o.queries } : {}),
    scenario: { name: 'MultiStream', percentile: 0.99, samplesPerQuery: o.samplesPerQuery, minDurationMs: LOADGEN_MIN_DURATION_MS, minQueries: 662 },
  }
}

export const server: WorkloadFactory = (options) => {
  const o = parseOptions(serverSchema, options)
  return {
    kind: 'open', label: `Server(${o.rate}/s, p99 ≤ ${o.latencyBound}ms, ${o.duration / 1000}s)`, offeredRate: o.rate, durationMs: o.duration,
    arrivalsMs: poissonArrivals(o.rate, o.duration, o.seed), ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
    scenario: { name: 'Server', percentile: 0.99, samplesPerQuery: 1, minDurationMs: LOADGEN_MIN_DURATION_MS, latencyBoundMs: o.latencyBound },
  }
}

export const offline: WorkloadFactory = (options) => {
  const o = parseOptions(offlineSchema, options)
  return {
    kind: 'closed', label: `Offline(${o.samples} samples, c=${o.concurrency})`, concurrency: o.concurrency,
    // Requests of `batch` samples each: the runner sizes the count once the batch is known.
    requests: o.samples,
    scenario: { name: 'Offline', percentile: 0.9, samplesPerQuery: o.samples, minDurationMs: LOADGEN_MIN_DURATION_MS, minSamples: 24_576 },
  }
}
