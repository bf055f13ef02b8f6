import { z } from 'zod'
import { parseOptions } from './parse-options.ts'
import { durationSchema, type WorkloadFactory } from '../../core/plugin-api.ts'

const schema = z.strictObject({
  from: z.number().positive(),
  to: z.number().positive(),
  steps: z.number().int().min(2).max(50),
  step: durationSchema.refine((ms) => ms >= 200, 'expected a step of 200ms or more'),
  seed: z.number().int().nonnegative().default(1),
  maxOutstanding: z.number().int().positive().optional(),
}).refine((o) => o.from < o.to, { message: 'from must be below to', path: ['to'] })

/**
 * `workload.ramp({ from: 100, to: 1000, steps: 10, step: '3s' })`: Poisson rates rising evenly,
 * each step measured and reported on its own (runners/ramp.ts): throughput and latency against
 * the offered rate, the curve whose knee is the backend's capacity.
 */
export const ramp: WorkloadFactory = (options) => {
  const o = parseOptions(schema, options)
  const rates = Array.from({ length: o.steps }, (_, i) => Math.round((o.from + ((o.to - o.from) * i) / (o.steps - 1)) * 10) / 10)
  return {
    kind: 'open', label: `ramp(${o.from}→${o.to}/s in ${o.steps} steps of ${o.step / 1000}s, seed=${o.seed})`, offeredRate: o.to,
    durationMs: o.steps * o.step, arrivalsMs: new Float64Array(0), ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
    ramp: { rates, stepMs: o.step, seed: o.seed },
  }
}
