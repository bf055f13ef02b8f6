import { createLatencyHistogram, type LatencyHistogram } from './histogram.ts'

/**
 * Service time of request `index`, which found its instance idle for `idleMs` (0: it queued
 * behind another request and starts on a warm instance).
 */
export type ServiceSampler = (index: number, idleMs: number) => number

/**
 * What an open loop should measure on a backend of `servers` identical first-come-first-served
 * instances: each arrival takes the instance that frees first and starts when it is free
 * (the Lindley recursion W(n+1) = max(0, W(n) + S(n) - A(n+1)) for one server, Kiefer and
 * Wolfowitz's for several). Latency = wait + service, in µs in an HDR histogram like the
 * measurement's, so the two are read the same way.
 */
export function predictOpenLoop(arrivalsMs: Float64Array, service: ServiceSampler, servers = 1): LatencyHistogram {
  const freeAt = new Float64Array(servers).fill(-Infinity)
  const histogram = createLatencyHistogram()
  for (let i = 0; i < arrivalsMs.length; i++) {
    const arrival = arrivalsMs[i]!
    let k = 0
    for (let j = 1; j < servers; j++) if (freeAt[j]! < freeAt[k]!) k = j
    const start = Math.max(arrival, freeAt[k]!)
    const s = service(i, arrival - freeAt[k]! > 0 ? arrival - freeAt[k]! : 0)
    freeAt[k] = start + s
    const us = Math.round((start - arrival + s) * 1000)
    histogram.recordValue(us < 1 ? 1 : us)
  }
  return histogram
}

/**
 * A sampler from measured service times: `afterIdle` measured with idle gaps drawn at the
 * workload's rate (threads park and caches cool between requests, as they will in the open
 * loop), `warm` measured back to back (a request that queued starts on a warm instance). Draws
 * with `random` (a seeded generator keeps predictions repeatable).
 */
export function serviceSampler(samples: { afterIdle: number[]; warm: number[] }, random: () => number): ServiceSampler {
  if (samples.afterIdle.length === 0 || samples.warm.length === 0) throw new Error('serviceSampler needs at least one sample of each kind')
  const pick = (from: number[]) => from[Math.floor(random() * from.length)]!
  return (_index, idleMs) => pick(idleMs > 0 ? samples.afterIdle : samples.warm)
}
