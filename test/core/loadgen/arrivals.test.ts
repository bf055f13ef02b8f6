import { describe, expect, it } from 'vitest'
import { constantArrivals, poissonArrivals } from '../../../core/loadgen/arrivals.ts'

describe('arrival schedules', () => {
  it('poisson: mean rate within tolerance for a seed, and the same seed gives the same schedule', () => {
    const rate = 500
    const arrivals = poissonArrivals(rate, 60_000, 42)
    const observed = arrivals.length / 60
    // 30,000 expected arrivals: the standard deviation of the count is ~173 (0.6%).
    expect(Math.abs(observed - rate) / rate).toBeLessThan(0.02)
    expect(poissonArrivals(rate, 60_000, 42)).toEqual(arrivals)
    expect(poissonArrivals(rate, 60_000, 43)).not.toEqual(arrivals)
  })

  it('poisson: gaps are exponential (mean = sd = 1/rate, memoryless tail)', () => {
    const rate = 200
    const a = poissonArrivals(rate, 100_000, 7)
    const gaps = Array.from(a, (t, i) => (i === 0 ? t : t - a[i - 1]!))
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length)
    const expected = 1000 / rate
    expect(Math.abs(mean - expected) / expected).toBeLessThan(0.03)
    expect(Math.abs(sd - expected) / expected).toBeLessThan(0.05)
    // P(gap > 2/rate) = e^-2 for an exponential distribution.
    const tail = gaps.filter((g) => g > 2 * expected).length / gaps.length
    expect(Math.abs(tail - Math.exp(-2))).toBeLessThan(0.01)
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThanOrEqual(a[i - 1]!)
  })

  it('constant: evenly spaced at 1/rate', () => {
    const a = constantArrivals(100, 1000)
    expect(a.length).toBe(100)
    expect(a[1]! - a[0]!).toBeCloseTo(10)
    expect(a[99]).toBeCloseTo(990)
  })
})
