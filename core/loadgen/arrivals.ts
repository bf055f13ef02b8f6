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
