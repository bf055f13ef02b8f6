/**
 * Seeded pseudo-random numbers. Benchmarks must be reproducible: the same seed gives the same
 * arrival schedule and the same generated model weights on every machine.
 */
export type Rng = () => number

/** mulberry32: tiny, fast, and good enough for arrival times and random weights (not for crypto). */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** An exponentially distributed sample with the given rate (events per unit time). */
export function exponential(rng: Rng, rate: number): number {
  // 1 - u lies in (0, 1], so the logarithm is finite.
  return -Math.log(1 - rng()) / rate
}

/** A 32-bit seed derived from a string, so a spec hash can seed its own weights. */
export function seedFromString(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 16777619)
  }
  return h >>> 0
}
