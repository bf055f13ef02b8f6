import { describe, expect, it } from 'vitest'
import type { JobReport } from '../../../core/report.ts'
import { compareJobs, compareRuns, mannWhitneyP, quantileInterval, worstRegression } from '../../../core/stats/compare.ts'
import { createLatencyHistogram, encodeHistogram } from '../../../core/stats/histogram.ts'
import { printComparison } from '../../../cli/store-command.ts'
import { seededRng } from '../../../core/rng.ts'

/** A measured job whose 5 windows have these p50s (ms) and whose histogram holds `n` latencies around `center`. */
function job(id: string, windowP50s: number[], center: number, n = 2000, seed = 1): JobReport {
  const rng = seededRng(seed)
  const h = createLatencyHistogram()
  for (let i = 0; i < n; i++) h.recordValue(Math.round(center * 1000 * (0.9 + 0.2 * rng())))
  const p50 = [...windowP50s].sort((a, b) => a - b)[2]!
  return {
    id, suite: 's', name: id, file: 'f', kind: 'serving', params: { batch: 1 }, estimateMs: 0, slo: [], status: 'passed',
    latency: { min: 0, p50, p90: center * 1.08, p95: center * 1.09, p99: h.getValueAtPercentile(99) / 1000, p999: center * 1.1, max: center * 1.1, mean: p50, stdev: 0 },
    throughput: { requestsPerSec: 1000 / p50, samplesPerSec: 1000 / p50 },
    requests: { ok: n, errors: 0, late: 0, overflow: 0 }, batch: 1, durationMs: 1000,
    stability: { stable: true, windows: windowP50s.map((w, i) => ({ startMs: i * 200, endMs: (i + 1) * 200, requests: n / 5, requestsPerSec: 1000 / w, p50Ms: w })) },
    validity: { valid: true, problems: [], warnings: [] }, histogram: encodeHistogram(h),
  } as JobReport
}

describe('compare', () => {
  it('the rank test gives the textbook exact p-values', () => {
    expect(mannWhitneyP([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toBeCloseTo(2 / 252, 6)
    expect(mannWhitneyP([1, 2, 3], [4, 5, 6])).toBeCloseTo(0.1, 6)
    expect(mannWhitneyP([1, 3, 5, 7, 9], [2, 4, 6, 8, 10])).toBeGreaterThan(0.5)
  })

  it("a p99 interval from a histogram holds the sample's p99 and narrows with more samples", () => {
    const small = job('a', [1, 1, 1, 1, 1], 1, 500)
    const large = job('a', [1, 1, 1, 1, 1], 1, 50_000)
    for (const j of [small, large]) {
      const i = quantileInterval((j as { histogram: string }).histogram, 0.99)
      expect(i.low).toBeLessThanOrEqual((j as { latency: { p99: number } }).latency.p99)
      expect(i.high).toBeGreaterThanOrEqual((j as { latency: { p99: number } }).latency.p99)
    }
    const width = (j: JobReport) => { const i = quantileInterval((j as { histogram: string }).histogram, 0.99); return i.high - i.low }
    expect(width(large)).toBeLessThan(width(small) / 3)
  })

  it('windows apart: slower (or faster); windows interleaved: same within noise', () => {
    const base = job('a', [1.0, 1.02, 0.99, 1.01, 1.0], 1)
    expect(compareJobs(base, job('a', [1.3, 1.31, 1.29, 1.32, 1.3], 1.3, 2000, 2)).verdict).toBe('slower')
    expect(compareJobs(base, job('a', [0.7, 0.71, 0.69, 0.7, 0.72], 0.7, 2000, 3)).verdict).toBe('faster')
    expect(compareJobs(base, job('a', [1.01, 0.99, 1.0, 1.02, 0.98], 1, 2000, 4)).verdict).toBe('same within noise')
  })

  it('with 3+ stored runs, a change inside their prediction interval is noise even when the windows are apart', () => {
    const base = job('a', [1.0, 1.0, 1.0, 1.0, 1.0], 1)
    const shifted = job('a', [1.2, 1.2, 1.2, 1.2, 1.2], 1.2, 2000, 5)
    expect(compareJobs(base, shifted).verdict).toBe('slower')
    // Earlier runs moved between 0.8 and 1.3 ms: a run at 1.2 ms is what this machine does.
    const noisy = { p50: [0.8, 1.3, 1.0, 1.15], p99: [0.9, 1.4, 1.1, 1.25], throughput: [1250, 770, 1000, 870] }
    const judged = compareJobs(base, shifted, noisy)
    expect(judged.verdict).toBe('same within noise')
    expect(judged.historyRuns).toBe(4)
    expect(judged.metrics.find((m) => m.metric === 'p50')!.evidence).toMatch(/4 stored runs predict \[.*\] \(99%\), inside it/)
    // Earlier runs all at 1.0 ± 1%: 1.2 ms is a regression.
    const steady = { p50: [1.0, 1.01, 0.99, 1.0], p99: [1.09, 1.1, 1.08, 1.09], throughput: [1000, 990, 1010, 1000] }
    expect(compareJobs(base, shifted, steady).verdict).toBe('slower')
  })

  it('matches jobs by id, lists new and gone ones apart, and reports the worst significant regression', () => {
    const before = [job('a', [1, 1, 1, 1, 1], 1), job('gone', [1, 1, 1, 1, 1], 1)]
    const after = [job('a', [1.5, 1.5, 1.5, 1.5, 1.5], 1.5, 2000, 6), job('new', [1, 1, 1, 1, 1], 1)]
    const comparison = compareRuns(before, after)
    expect(comparison.jobs.map((j) => [j.jobId, j.verdict])).toEqual([['a', 'slower']])
    expect(comparison.onlyBefore.map((j) => j.jobId)).toEqual(['gone'])
    expect(comparison.onlyAfter.map((j) => j.jobId)).toEqual(['new'])
    const worst = worstRegression(comparison)
    expect(worst.fraction).toBeGreaterThan(0.45)
    expect(worst.job!.jobId).toBe('a')
  })

  it('3 windows a side cannot show a change: the job is not comparable, not "same within noise"', () => {
    const three = (id: string, ws: number[], center: number) => {
      const j = job(id, ws, center) as Extract<JobReport, { status: 'passed' }>
      return { ...j, stability: { ...j.stability, windows: j.stability.windows.slice(0, 3) }, histogram: undefined } as unknown as JobReport
    }
    const judged = compareJobs(three('a', [1, 1, 1, 1, 1], 1), three('a', [3, 3, 3, 3, 3], 3))
    expect(judged.verdict).toBe('not comparable')
    expect(judged.reason).toMatch(/p50 and throughput cannot be judged: 3\+3 windows.*set measurement\.windows to 5 or more/)
  })

  it('--fail-on-regression fails only on a regression also judged against stored runs', () => {
    const side = (jobs: JobReport[], startedAt: string) => ({ label: startedAt, jobs, fingerprint: { cpu: { model: 'x', cores: 2, speedMHz: 0 }, memoryBytes: 0, os: { platform: 'linux', release: '6', arch: 'x64' }, node: 'v20', libraries: {}, inferbench: '0', hostname: 'h' }, startedAt })
    const before = side([job('a', [1, 1.01, 0.99, 1, 1], 1)], '2026-01-01T00:00:00.000Z')
    const after = side([job('a', [2, 2.01, 1.99, 2, 2], 2, 2000, 7)], '2026-01-02T00:00:00.000Z')
    let text = ''
    const sink = { write: (t: string) => { text += t; return true } }
    expect(printComparison(before, after, sink, { failAbove: 0.1 })).toBe(0)
    expect(text).toMatch(/--fail-on-regression does not count .*fewer than 3 stored runs/)
    const steady = () => ({ p50: [1, 1.01, 0.99], p99: [1.09, 1.1, 1.08], throughput: [1000, 990, 1010] })
    text = ''
    expect(printComparison(before, after, sink, { failAbove: 0.1, history: steady })).toBe(1)
    expect(text).toMatch(/regression beyond noise of \d+\.\d% .* exceeds --fail-on-regression 10\.0%/)
  })
})
