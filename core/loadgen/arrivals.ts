import { exponential, seededRng } from '../rng.ts'

/**
 * Open-loop schedules, generated before the run (as MLPerf LoadGen does): milliseconds from the
 * measurement start at which each request is intended to be sent.
 */
export function constantArrivals(rate: number, durationMs: number): Float64Array {
  const gapMs = 1000 / rate
  const count = Math.floor((durationMs / 1000) * rate)
  const arrivals = new Float64Array(count)
  for (let i = 0; i < count; i++) arrivals[i] = i * gapMs
  return arrivals
}

/** Poisson process: exponential gaps with mean 1/rate, from a seed, until `durationMs`. */
export function poissonArrivals(rate: number, durationMs: number, seed: number): Float64Array {
  const rng = seededRng(seed)
  const ratePerMs = rate / 1000
  const out: number[] = []
  let t = exponential(rng, ratePerMs)
  while (t < durationMs) {
    out.push(t)
    t += exponential(rng, ratePerMs)
  }
  return Float64Array.from(out)
}

/**
 * On/off bursts: Poisson arrivals at `rate` during each `onMs` period and at `offRate` (often 0)
 * during each `offMs` period, repeating until `durationMs`; one seeded stream throughout.
 */
export function burstArrivals(rate: number, offRate: number, onMs: number, offMs: number, durationMs: number, seed: number): Float64Array {
  const rng = seededRng(seed)
  const out: number[] = []
  for (let start = 0; start < durationMs; start += onMs + offMs) {
    for (const [from, length, r] of [[start, onMs, rate], [start + onMs, offMs, offRate]] as const) {
      if (r <= 0) continue
      const end = Math.min(from + length, durationMs)
      let t = from + exponential(rng, r / 1000)
      while (t < end) {
        out.push(t)
        t += exponential(rng, r / 1000)
      }
    }
  }
  return Float64Array.from(out)
}
