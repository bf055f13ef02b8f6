import { z } from 'zod'
import {
  constantArrivals, definePlugin, durationSchema, poissonArrivals,
  type Plugin, type WorkloadFactory,
} from '../../core/plugin-api.ts'
import { burst } from './burst.ts'
import { findPeak } from './find-peak.ts'
import { parseOptions } from './parse-options.ts'
import { multiStream, offline, server, singleStream } from './mlperf.ts'
import { ramp } from './ramp.ts'
import { trace } from './trace.ts'

const closedSchema = z.strictObject({
  concurrency: z.number().int().positive().default(1),
  duration: durationSchema.refine((ms) => ms > 0, 'expected a duration above zero').optional(),
  requests: z.number().int().positive().optional(),
}).refine((o) => o.duration !== undefined || o.requests !== undefined, {
  message: 'give a duration or a number of requests, so the run is bounded',
})

const openSchema = z.strictObject({
  rate: z.number().positive(),
  duration: durationSchema.refine((ms) => ms > 0, 'expected a duration above zero'),
  maxOutstanding: z.number().int().positive().optional(),
})

const poissonSchema = openSchema.extend({ seed: z.number().int().nonnegative().default(1) })


const closed: WorkloadFactory = (options) => {
  const o = parseOptions(closedSchema, options)
  const bound = o.duration !== undefined ? `${o.duration / 1000}s` : `${o.requests} requests`
  return {
    kind: 'closed', label: `closed(c=${o.concurrency}, ${bound})`, concurrency: o.concurrency,
    ...(o.duration !== undefined ? { durationMs: o.duration } : {}),
    ...(o.requests !== undefined ? { requests: o.requests } : {}),
  }
}

const constant: WorkloadFactory = (options) => {
  const o = parseOptions(openSchema, options)
  return {
    kind: 'open', label: `constant(${o.rate}/s, ${o.duration / 1000}s)`, offeredRate: o.rate, durationMs: o.duration,
    arrivalsMs: constantArrivals(o.rate, o.duration), ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
  }
}

const poisson: WorkloadFactory = (options) => {
  const o = parseOptions(poissonSchema, options)
  return {
    kind: 'open', label: `poisson(${o.rate}/s, ${o.duration / 1000}s, seed=${o.seed})`, offeredRate: o.rate,
    durationMs: o.duration, arrivalsMs: poissonArrivals(o.rate, o.duration, o.seed),
    ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
  }
}

/** The built-in workloads: closed loop; constant-rate, Poisson, burst, ramp and trace-replay open loops; the peak search; the MLPerf scenarios. */
export function workloads(): Plugin {
  return definePlugin({ name: 'inferbench:workloads', workloads: { closed, constant, poisson, burst, trace, ramp, findPeak, singleStream, multiStream, server, offline } })
}
