import { afterAll, describe, expect, it } from 'vitest'
import { poissonArrivals } from '../../core/loadgen/arrivals.ts'
import { predictOpenLoop } from '../../core/stats/queueing.ts'
import { runBenchmarks } from '../../runners/node-api.ts'
import { tempProject } from '../helpers/temp-project.ts'

/**
 * A backend whose service is known: one server, first come first served, each request held for
 * a 4 ms timer. Its actual service times (timers run late) are recorded, so queueing theory can
 * say which Poisson rate puts p90 at the limit: the goodput findPeak must find.
 */
const project = tempProject({
  'inferbench.config.ts': `import { defineConfig, definePlugin } from 'inferbench'
const service = globalThis.__peakService = []
const fixed = () => {
  let free = Promise.resolve()
  return {
    infer() {
      const turn = free.then(() => new Promise((done) => { const t0 = performance.now(); setTimeout(() => { service.push(performance.now() - t0); done() }, 4) }))
      free = turn
      return turn
    },
    async close() {},
  }
}
export default defineConfig({ perfDb: false, reporters: [], measurement: { minDuration: '300ms', minRequests: 50, lateThreshold: '5ms', probes: [] }, plugins: [definePlugin({ name: 'test:fixed', backends: { fixed } })] })
`,
  'peak.bench.ts': `import { bench, workload } from 'inferbench'
bench('peak', { backend: 'fixed', warmup: false, workload: workload.findPeak({ slo: { p90: '12ms' }, low: 50, step: '600ms', maxSteps: 9 }) })
`,
})
afterAll(() => project.cleanup())

describe('workload.findPeak', () => {
  it('finds the rate queueing theory predicts for the SLO, through a bracket then a bisection of valid steps', async () => {
    const report = await runBenchmarks({ cwd: project.dir })
    const job = report.jobs[0]!
    expect(job.status, JSON.stringify({ error: (job as { error?: unknown }).error, failures: (job as { failures?: unknown }).failures, peak: (job as { peak?: unknown }).peak })).toBe('passed')
    if (job.status !== 'passed') return
    const peak = job.peak!
    const service = (globalThis as unknown as { __peakService: number[] }).__peakService
    // The rate at which the recorded service times give p90 = 12 ms in the Lindley recursion.
    let i = 0
    const p90At = (rate: number) => predictOpenLoop(poissonArrivals(rate, 60_000, 3), () => service[i++ % service.length]!).getValueAtPercentile(90) / 1000
    let lo = 1
    let hi = 1000 / Math.min(...service)
    for (let k = 0; k < 30; k++) { const mid = (lo + hi) / 2; if (p90At(mid) <= 12) lo = mid; else hi = mid }
    console.log(`findPeak: goodput ${peak.goodputRps} req/s, theory ${lo.toFixed(1)} req/s (mean service ${(service.reduce((a, b) => a + b, 0) / service.length).toFixed(2)} ms); steps ${peak.steps.map((s) => `${s.rate}${s.meets ? "+" : `- (${s.why})`}`).join(", ")}`)
    // Noise only adds latency, so the instrument may find less than theory, never much more.
    expect(peak.goodputRps!).toBeLessThan(lo * 1.15)
    expect(peak.goodputRps!).toBeGreaterThan(lo * 0.6)
    // Doubling from the first rate until a step fails, then bisecting between pass and fail.
    expect(peak.steps[0]!.rate).toBe(50)
    expect(peak.steps[1]!.rate).toBe(100)
    const passing = peak.steps.filter((s) => s.meets)
    expect(Math.max(...passing.map((s) => s.rate))).toBe(peak.goodputRps)
    expect(passing.every((s) => s.valid)).toBe(true)
    expect(peak.steps.some((s) => !s.meets && s.rate > peak.goodputRps!)).toBe(true)
    // The report's figures are the measurement at the goodput's rate, and it met the SLO.
    expect(job.rate!.offered).toBeCloseTo(peak.goodputRps!, 0)
    expect(job.latency.p90).toBeLessThanOrEqual(12)
  }, 60_000)

  it('refuses a search without a latency limit, naming the bench', async () => {
    const bad = tempProject({ 'x.bench.ts': "import { bench, model, workload } from 'inferbench'\nbench('p', { model: model.generate('fc', { layers: 1, width: 8 }), workload: workload.findPeak({ slo: {} }) })\n" })
    try {
      await expect(runBenchmarks({ cwd: bad.dir })).rejects.toThrow(/x\.bench\.ts > p: workload findPeak: slo: expected at least one latency limit/)
    } finally {
      bad.cleanup()
    }
  })
})
