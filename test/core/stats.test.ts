import { describe, expect, it } from 'vitest'
import { createLatencyHistogram, decodeHistogram, encodeHistogram, summarizeHistogram } from '../../core/stats/histogram.ts'
import { describeVerdict, evaluateSlo, resolveSlo } from '../../core/stats/slo.ts'
import { assessStability, type WindowStat } from '../../core/stats/stability.ts'
import { assessValidity } from '../../core/stats/validity.ts'
import { quantile } from '../../runners/function-job.ts'
import { LoadRecorder } from '../../core/loadgen/recorder.ts'
import { exponential, seededRng } from '../../core/rng.ts'

describe('histogram summary', () => {
  it('never reports a percentile above the maximum (HDR gives a bucket\'s upper edge)', () => {
    const h = createLatencyHistogram()
    for (let i = 0; i < 49; i++) h.recordValue(1000)
    h.recordValue(16_651)
    const s = summarizeHistogram(h)
    expect(s.max).toBe(16.651)
    expect(s.p99).toBeLessThanOrEqual(s.max)
    expect(s.p999).toBe(s.max)
  })

  it('matches a hand-computed case: 1..1000 ms', () => {
    const h = createLatencyHistogram()
    for (let ms = 1; ms <= 1000; ms++) h.recordValue(ms * 1000)
    const s = summarizeHistogram(h)
    // HDR keeps 3 significant digits: each figure is within 0.1% of the exact one.
    expect(s.p50).toBeCloseTo(500, -0.5)
    expect(Math.abs(s.p90 - 900) / 900).toBeLessThan(0.002)
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.002)
    expect(Math.abs(s.mean - 500.5) / 500.5).toBeLessThan(0.002)
    expect(Math.abs(s.stdev - 288.675) / 288.675).toBeLessThan(0.005)
    expect(s.min).toBe(1)
    expect(Math.abs(s.max - 1000) / 1000).toBeLessThan(0.001)
    // The median is not the mean (a public benchmark script once reported one as the other).
    const skewed = createLatencyHistogram()
    for (const v of [1, 1, 1, 1, 96]) skewed.recordValue(v * 1000)
    expect(summarizeHistogram(skewed).p50).toBeCloseTo(1, 2)
    expect(summarizeHistogram(skewed).mean).toBeCloseTo(20, 1)
  })

  it('round-trips through the compressed encoding and merges by addition', () => {
    const a = createLatencyHistogram()
    const b = createLatencyHistogram()
    for (let i = 0; i < 100; i++) { a.recordValue(1000); b.recordValue(3000) }
    const decoded = decodeHistogram(encodeHistogram(a))
    expect(decoded.totalCount).toBe(100)
    decoded.add(b)
    expect(summarizeHistogram(decoded).p50).toBeCloseTo(1, 2)
    expect(summarizeHistogram(decoded).p90).toBeCloseTo(3, 2)
  })

  it('interpolates quantiles of sorted samples', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3)
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([10, 20], 0.9)).toBeCloseTo(19)
  })
})

const win = (requestsPerSec: number, p50Ms: number, extra: Partial<WindowStat> = {}): WindowStat =>
  ({ startMs: 0, endMs: 1000, requests: Math.round(requestsPerSec), requestsPerSec, p50Ms, ...extra })

describe('stability', () => {
  it('accepts when the last 3 windows agree within 10%', () => {
    expect(assessStability([win(50, 9), win(100, 1), win(105, 1.05), win(98, 1.02)]).stable).toBe(true)
  })
  it('rejects and says why when throughput or p50 drift', () => {
    const s = assessStability([win(100, 1), win(100, 1), win(130, 1.5)])
    expect(s.stable).toBe(false)
    expect(s.reason).toMatch(/throughput varies 30\.0%/)
    expect(s.reason).toMatch(/p50 latency varies at least 50\.0%/)
  })
  it('needs 3 windows', () => {
    expect(assessStability([win(100, 1), win(100, 1)]).reason).toMatch(/only 2 of the 3/)
  })
  it('never skips an empty window: a stall of a whole window is the worst instability', () => {
    // Before, empty windows were dropped and these three agreeing ones passed.
    const s = assessStability([win(100, 1), win(100, 1), win(0, 0), win(100, 1), win(100, 1)])
    expect(s.stable).toBe(false)
    expect(s.reason).toMatch(/window 3 of 5 had no answers/)
    expect(assessStability([win(100, 1), win(100, 1), win(100, 1), win(0, 0), win(0, 0)]).reason).toMatch(/windows 4, 5 of 5 had no answers/)
  })
  it('does not call sampling noise instability: p50 disagrees only beyond the medians\' confidence intervals', () => {
    // Plain spread 20%, but each window's median is only known to within ±15%: consistent.
    const noisy = [win(100, 1, { p50LowMs: 0.85, p50HighMs: 1.15 }), win(100, 1.2, { p50LowMs: 1.05, p50HighMs: 1.35 }), win(100, 1.1, { p50LowMs: 0.95, p50HighMs: 1.25 })]
    expect(assessStability(noisy).stable).toBe(true)
    // A real shift: the intervals are 36% apart at their closest.
    const shifted = [win(100, 1, { p50LowMs: 0.95, p50HighMs: 1.05 }), win(100, 1, { p50LowMs: 0.95, p50HighMs: 1.05 }), win(100, 1.5, { p50LowMs: 1.43, p50HighMs: 1.57 })]
    const s = assessStability(shifted)
    expect(s.stable).toBe(false)
    expect(s.reason).toMatch(/p50 latency varies at least 36\.2%/)
  })
  it('gives windows the median interval of their answers (a recorder fed one distribution is stable; a 40% step is not)', () => {
    const rng = seededRng(5)
    const feed = (scale: (window: number) => number) => {
      const r = new LoadRecorder({ byCount: 150 }, 5)
      for (let i = 0; i < 750; i++) r.success(scale(Math.floor(i / 150)) * (0.5 + exponential(rng, 2)), i, undefined)
      return r.windowStats()
    }
    const same = feed(() => 1)
    expect(same.every((w) => w.p50LowMs! < w.p50Ms && w.p50Ms < w.p50HighMs!)).toBe(true)
    expect(assessStability(same).stable).toBe(true)
    expect(assessStability(feed((w) => (w === 4 ? 1.4 : 1))).stable).toBe(false)
  })
  it('judges open-loop throughput relative to what the schedule offered in each window', () => {
    const s = assessStability([win(80, 1, { offeredPerSec: 80 }), win(120, 1, { offeredPerSec: 120 }), win(100, 1, { offeredPerSec: 100 })])
    expect(s.stable).toBe(true)
  })
})

describe('validity', () => {
  it('names the fix for a short run and for an overloaded open loop', () => {
    const v = assessValidity({
      durationMs: 500, ok: 20, minDurationMs: 1000, minRequests: 100,
      open: { scheduled: 100, overflow: 3, late: 10, offeredRate: 200, achievedRate: 40 },
    })
    expect(v.valid).toBe(false)
    expect(v.problems.map((p) => p.code)).toEqual(['too-short', 'too-few-requests', 'overflow', 'late-sends'])
    expect(v.problems[0]!.fix).toBe('run longer')
    expect(v.problems[2]!.fix).toMatch(/lower the rate/)
    expect(v.warnings.map((w) => w.code)).toContain('saturated')
    expect(v.warnings.find((w) => w.code === 'saturated')!.message).toBe('achieved 40.0 req/s of the 200.0 req/s the schedule offered: the backend cannot keep up')
    // Two answers over 10 ms say nothing about saturation (the run is already invalid as too short).
    const tiny = assessValidity({ durationMs: 10, ok: 2, minDurationMs: 1000, minRequests: 100, open: { scheduled: 2, overflow: 0, late: 0, offeredRate: 200, achievedRate: 159 } })
    expect(tiny.problems.map((p) => p.code)).toEqual(['too-short', 'too-few-requests'])
    expect(tiny.warnings.map((w) => w.code)).not.toContain('saturated')
  })
  it('a run with more than 1% of its requests failed is invalid, or more than the SLO\'s errorRate allows', () => {
    const base = { durationMs: 5000, ok: 1000, minDurationMs: 1000, minRequests: 100 }
    expect(assessValidity({ ...base, errors: 10 }).valid).toBe(true) // 10 of 1,010: under 1%
    const failing = assessValidity({ ...base, errors: 4000 })
    expect(failing.problems.map((p) => p.code)).toEqual(['request-errors'])
    expect(failing.problems[0]!.message).toBe('4000 of 5000 requests failed (80.0%, over 1%)')
    expect(assessValidity({ ...base, errors: 40, maxErrorRate: 0.05 }).valid).toBe(true)
    expect(assessValidity({ ...base, errors: 1, maxErrorRate: 0 }).valid).toBe(false)
  })
  it('flags percentiles resting on too few tail samples', () => {
    const v = assessValidity({ durationMs: 5000, ok: 500, minDurationMs: 1000, minRequests: 100 })
    expect(v.valid).toBe(true)
    expect(v.warnings.map((w) => w.code)).toEqual(['thin-tail-p99', 'thin-tail-p99.9'])
  })
})

describe('SLO', () => {
  const latency = { min: 1, p50: 5, p90: 8, p95: 9, p99: 12, p999: 20, max: 30, mean: 6, stdev: 2 }
  it('parses strings and judges each metric', () => {
    const slo = resolveSlo({ p99: '10ms', p50: 6, throughput: 100, errorRate: '1%' }, 'here')
    expect(slo).toEqual({ p99: 10, p50: 6, throughput: 100, errorRate: 0.01 })
    const verdicts = evaluateSlo(slo, { latency, requestsPerSec: 150, errorRate: 0.02, answered: 5000 })
    expect(Object.fromEntries(verdicts.map((v) => [v.metric, v.pass]))).toEqual({ p50: true, p99: false, throughput: true, errorRate: false })
  })
  it('does not let a percentile resting on fewer than 10 answers beyond it satisfy an SLO, and says how many it needs', () => {
    const slo = resolveSlo({ p99: '100ms', p50: '100ms' }, 'here')
    const thin = evaluateSlo(slo, { latency, requestsPerSec: 150, errorRate: 0, answered: 561 })
    const p99 = thin.find((v) => v.metric === 'p99')!
    expect(p99.pass).toBe(false)
    expect(p99.thinTail).toEqual({ beyond: expect.closeTo(5.61, 2), needed: 1000 })
    expect(describeVerdict(p99)).toBe('p99 12.0ms cannot be judged against 100ms: it rests on 5.6 answers beyond it; 1000 answered requests resolve p99')
    expect(thin.find((v) => v.metric === 'p50')!.pass).toBe(true)
    expect(evaluateSlo(slo, { latency, requestsPerSec: 150, errorRate: 0, answered: 1000 }).every((v) => v.pass)).toBe(true)
    expect(evaluateSlo(resolveSlo({ p999: '1s' }, 'here'), { latency, requestsPerSec: 1, errorRate: 0, answered: 9999 })[0]!.thinTail?.needed).toBe(10000)
  })
  it('rejects unknown metrics and bad values naming the bench', () => {
    expect(() => resolveSlo({ p98: '1ms' } as never, 'b.bench.ts > x')).toThrow(/b\.bench\.ts > x: unknown SLO 'p98'/)
    expect(() => resolveSlo({ errorRate: '5 percent' }, 'w')).toThrow(/slo\.errorRate/)
  })
})
