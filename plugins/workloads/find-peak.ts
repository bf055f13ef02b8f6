import { z } from 'zod'
import { parseOptions } from './parse-options.ts'
import { durationSchema, type WorkloadFactory } from '../../core/plugin-api.ts'
import { resolveSlo } from '../../core/stats/slo.ts'

const schema = z.strictObject({
  slo: z.strictObject({ p50: durationSchema.optional(), p90: durationSchema.optional(), p95: durationSchema.optional(), p99: durationSchema.optional(), p999: durationSchema.optional(), mean: durationSchema.optional() })
    .refine((s) => Object.keys(s).length > 0, 'expected at least one latency limit, e.g. { p99: \'50ms\' }'),
  low: z.number().positive().optional(),
  high: z.number().positive().optional(),
  step: durationSchema.refine((ms) => ms >= 200, 'expected a step of 200ms or more').default(2000),
  precision: z.number().gt(0).lt(1).default(0.05),
  maxSteps: z.number().int().min(2).max(50).default(12),
  seed: z.number().int().nonnegative().default(1),
  maxOutstanding: z.number().int().positive().optional(),
}).refine((o) => o.low === undefined || o.high === undefined || o.low < o.high, { message: 'low must be below high' })

/**
 * `workload.findPeak({ slo: { p99: '50ms' } })`: an open-loop plan whose runner searches the
 * arrival rate (runners/find-peak.ts). Its duration is the step budget: what --list estimates.
 */
export const findPeak: WorkloadFactory = (options) => {
  const o = parseOptions(schema, options)
  const slo = resolveSlo(o.slo, 'findPeak')
  const sloLabel = Object.entries(slo).map(([k, v]) => `${k} ≤ ${v} ms`).join(', ')
  return {
    kind: 'open', label: `findPeak(${sloLabel})`, offeredRate: o.low ?? 0, durationMs: o.maxSteps * o.step, arrivalsMs: new Float64Array(0),
    ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
    search: { slo, sloLabel, ...(o.low ? { low: o.low } : {}), ...(o.high ? { high: o.high } : {}), stepMs: o.step, precision: o.precision, maxSteps: o.maxSteps, seed: o.seed },
  }
}
