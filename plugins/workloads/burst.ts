import { z } from 'zod'
import { parseOptions } from './parse-options.ts'
import { durationSchema, type WorkloadFactory } from '../../core/plugin-api.ts'
import { burstArrivals } from '../../core/loadgen/arrivals.ts'

const schema = z.strictObject({
  rate: z.number().positive(),
  on: durationSchema.refine((ms) => ms > 0, 'expected a duration above zero'),
  off: durationSchema.refine((ms) => ms > 0, 'expected a duration above zero'),
  offRate: z.number().nonnegative().default(0),
  duration: durationSchema.refine((ms) => ms > 0, 'expected a duration above zero'),
  seed: z.number().int().nonnegative().default(1),
  maxOutstanding: z.number().int().positive().optional(),
}).refine((o) => o.offRate < o.rate, { message: 'offRate must be below rate (the burst)', path: ['offRate'] })

/**
 * `workload.burst({ rate: 400, on: '1s', off: '2s', duration: '12s' })`: on/off traffic, Poisson
 * at `rate` in each burst and at `offRate` between them: how a backend's queue builds in a burst
 * and drains after it. Its offered rate is the mean over the whole run.
 */
export const burst: WorkloadFactory = (options) => {
  const o = parseOptions(schema, options)
  const mean = (o.rate * o.on + o.offRate * o.off) / (o.on + o.off)
  return {
    kind: 'open', label: `burst(${o.rate}/s ${o.on / 1000}s on, ${o.offRate ? `${o.offRate}/s ` : ''}${o.off / 1000}s off, ${o.duration / 1000}s, seed=${o.seed})`,
    offeredRate: mean, durationMs: o.duration, arrivalsMs: burstArrivals(o.rate, o.offRate, o.on, o.off, o.duration, o.seed),
    ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
  }
}
