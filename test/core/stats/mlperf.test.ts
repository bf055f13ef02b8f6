import { describe, expect, it } from 'vitest'
import { binomialCdf, earlyStoppingRank, minPassingQueries, serverEarlyStopping } from '../../../core/stats/early-stopping.ts'
import { createLatencyHistogram } from '../../../core/stats/histogram.ts'
import { judgeScenario } from '../../../core/stats/mlperf.ts'
import type { MlperfScenario } from '../../../core/workload.ts'
import { workloads } from '../../../plugins/workloads/index.ts'

/** A histogram of the latencies 1..n µs (exact in HdrHistogram below 2,048). */
function linear(n: number) {
  const h = createLatencyHistogram()
  for (let i = 1; i <= n; i++) h.recordValue(i)
  return h
}

describe('LoadGen early stopping', () => {
  it('binomial CDF: exact small cases, and no underflow at large n', () => {
    expect(binomialCdf(0, 10, 0.1)).toBeCloseTo(0.9 ** 10, 12)
    expect(binomialCdf(1, 10, 0.1)).toBeCloseTo(0.9 ** 10 + 10 * 0.1 * 0.9 ** 9, 12)
    expect(binomialCdf(2500, 270_336, 0.01)).toBeGreaterThan(0) // (0.99)^270336 alone underflows to 0
    expect(binomialCdf(2500, 270_336, 0.01)).toBeLessThan(1)
  })

  it('needs the query counts LoadGen needs: 64 for a p90, 662 for a p99 (mlperf.conf MultiStream.min_query_count)', () => {
    expect(minPassingQueries(1, 0.9) + 1).toBe(64)
    expect(minPassingQueries(1, 0.99) + 1).toBe(662)
    expect(earlyStoppingRank(63, 0.9)).toEqual({ minQueries: 64 })
    expect(earlyStoppingRank(662, 0.99)).toEqual({ minQueries: 662, discarded: 0, rank: 662 })
    // More queries let it discard more of the slowest, so the estimate nears the plain percentile from above.
    const big = earlyStoppingRank(10_000, 0.9)
    expect(big.rank! / 10_000).toBeGreaterThan(0.9)
    expect(big.rank! / 10_000).toBeLessThan(0.91)
    // Server: the more queries over the bound, the more queries a run needs.
    expect(serverEarlyStopping(1000, 0, 0.99)).toEqual({ passed: true, needed: 459 })
    expect(serverEarlyStopping(1000, 10, 0.99).passed).toBe(false)
    expect(serverEarlyStopping(1000, 10, 0.99).needed).toBeGreaterThan(1000)
  })
})

describe('MLPerf scenario verdicts', () => {
  const scenario = (name: MlperfScenario['name'], extra: Partial<MlperfScenario> = {}): MlperfScenario =>
    ({ name, percentile: name === 'SingleStream' ? 0.9 : 0.99, samplesPerQuery: 1, minDurationMs: 600_000, ...extra })

  it('SingleStream: the 90th percentile and its early-stopping estimate; a 10 s run is an estimate, not a valid result', () => {
    const r = judgeScenario(scenario('SingleStream'), linear(1000), { durationMs: 10_000, batch: 1 })
    expect(r.metric).toEqual({ name: '90th percentile latency', value: 0.9, unit: 'ms' })
    expect(r.earlyStopping!.passed).toBe(true)
    expect(r.earlyStopping!.estimateMs).toBeGreaterThan(0.9)
    expect(r.earlyStopping!.estimateMs).toBeLessThan(0.93)
    expect(r.minimums).toEqual([{ rule: 'min_duration (s)', required: 600, actual: 10, met: false }])
    expect(r.valid).toBe(false)
    expect(judgeScenario(scenario('SingleStream'), linear(1000), { durationMs: 600_000, batch: 1 }).valid).toBe(true)
  })

  it('Server: valid only when the p99 is within the bound and early stopping passes', () => {
    const within = judgeScenario(scenario('Server', { latencyBoundMs: 0.995 }), linear(1000), { durationMs: 600_000, batch: 1 })
    expect(within.latencyBound).toEqual({ boundMs: 0.995, percentileMs: 0.99, over: 5, met: true })
    // 5 of 1,000 over the bound: early stopping wants more queries than 1,000.
    expect(within.earlyStopping!.passed).toBe(false)
    expect(within.valid).toBe(false)
    const missed = judgeScenario(scenario('Server', { latencyBoundMs: 0.5 }), linear(1000), { durationMs: 600_000, batch: 1 })
    expect(missed.latencyBound!.met).toBe(false)
    expect(missed.latencyBound!.over).toBe(500)
    expect(missed.metric).toEqual({ name: 'queries per second', value: 1000 / 600, unit: 'queries/s' })
  })

  it('Offline: samples per second over the run; MultiStream counts queries against 662', () => {
    const off = judgeScenario(scenario('Offline', { minSamples: 24_576, samplesPerQuery: 32_000 }), linear(1000), { durationMs: 2000, batch: 32 })
    expect(off.metric.value).toBe(16_000)
    expect(off.minimums.find((m) => m.rule === 'min_sample_count')).toEqual({ rule: 'min_sample_count', required: 24_576, actual: 32_000, met: true })
    const ms = judgeScenario(scenario('MultiStream', { minQueries: 662, samplesPerQuery: 8 }), linear(600), { durationMs: 600_000, batch: 8 })
    expect(ms.minimums.find((m) => m.rule === 'min_query_count')!.met).toBe(false)
    expect(ms.earlyStopping).toMatchObject({ passed: false, minQueries: 662 })
  })

  it('the workload factories plan what LoadGen runs, and check their options', () => {
    const w = workloads().workloads!
    expect(w.singleStream!({})).toMatchObject({ kind: 'closed', concurrency: 1, durationMs: 600_000, scenario: { name: 'SingleStream', percentile: 0.9 } })
    expect(w.multiStream!({ duration: '10s' })).toMatchObject({ kind: 'closed', concurrency: 1, durationMs: 10_000, scenario: { samplesPerQuery: 8, minQueries: 662 } })
    const server = w.server!({ rate: 100, latencyBound: '15ms', duration: '10s' })
    expect(server).toMatchObject({ kind: 'open', offeredRate: 100, scenario: { name: 'Server', latencyBoundMs: 15 } })
    expect(server.kind === 'open' && Math.abs(server.arrivalsMs.length - 1000)).toBeLessThan(120)
    expect(() => w.server!({ rate: 100 })).toThrow(/latencyBound/)
    expect(() => w.offline!({ samples: 0 })).toThrow(/samples/)
  })
})
