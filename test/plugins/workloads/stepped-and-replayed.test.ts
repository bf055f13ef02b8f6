import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { burstArrivals } from '../../../core/loadgen/arrivals.ts'
import type { OpenWorkloadPlan } from '../../../core/workload.ts'
import { workloads } from '../../../plugins/workloads/index.ts'
import { runBenchmarks } from '../../../runners/node-api.ts'
import { tempProject } from '../../helpers/temp-project.ts'

const plan = (type: string, options: Record<string, unknown>) => workloads().workloads![type]!(options) as OpenWorkloadPlan
const project = tempProject({
  'inferbench.config.ts': "export default { perfDb: false, reporters: [], measurement: { minDuration: '200ms', minRequests: 20 } }\n",
  'arrivals.csv': 'user,arrival\na,100.000\nb,100.010\nc,100.030\n\nd,100.100\n',
  'ramp.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('ramp', { model: model.generate('fc', { layers: 1, width: 16 }), warmup: false, workload: workload.ramp({ from: 100, to: 300, steps: 3, step: '400ms' }) })
bench('replay', { model: model.generate('fc', { layers: 1, width: 16 }), warmup: false, workload: workload.trace({ file: 'arrivals.csv' }) })
`,
})
afterAll(() => project.cleanup())

describe('burst, trace and ramp workloads', () => {
  it('burst: Poisson at the rate inside each burst, the off rate between, from a seed', () => {
    const a = burstArrivals(1000, 0, 200, 300, 5000, 3)
    const inBurst = Array.from(a).filter((t) => t % 500 < 200).length
    expect(inBurst).toBe(a.length)
    // 10 bursts of 0.2 s at 1,000/s: ~2,000 arrivals (sd ~45).
    expect(Math.abs(a.length - 2000)).toBeLessThan(200)
    expect(burstArrivals(1000, 0, 200, 300, 5000, 3)).toEqual(a)
    const withOff = burstArrivals(1000, 100, 200, 300, 5000, 3)
    expect(Array.from(withOff).filter((t) => t % 500 >= 200).length).toBeGreaterThan(100)
    const w = plan('burst', { rate: 1000, on: '200ms', off: '300ms', duration: '5s' })
    expect(w.offeredRate).toBeCloseTo(400, 6)
    expect(() => plan('burst', { rate: 10, on: '1s', off: '1s', duration: '5s', offRate: 20 })).toThrow(/offRate must be below rate/)
  })

  it('trace: replays recorded times from the first, sped up or slowed, and names a bad line', () => {
    const file = join(project.dir, 'arrivals.csv')
    const w = plan('trace', { file })
    expect(Array.from(w.arrivalsMs).map((t) => Math.round(t))).toEqual([0, 10, 30, 100])
    expect(Array.from(plan('trace', { file, speed: 2 }).arrivalsMs).map((t) => Math.round(t))).toEqual([0, 5, 15, 50])
    const jsonl = join(project.dir, 'a.jsonl')
    writeFileSync(jsonl, '{"ts": 5}\n{"ts": 7}\n')
    expect(Array.from(plan('trace', { file: jsonl, column: 'ts', unit: 'ms' }).arrivalsMs)).toEqual([0, 2])
    const bad = join(project.dir, 'bad.csv')
    writeFileSync(bad, 'arrival\n1\nsoon\n')
    expect(() => plan('trace', { file: bad })).toThrow(/bad\.csv:3: 'soon' has no number in column 'arrival'/)
    expect(() => plan('trace', { file, column: 'time' })).toThrow(/arrivals\.csv:1: no column 'time' \(columns: user, arrival\)/)
    // A recorded trace is long: 300,000 lines plan (no spread of arguments past the stack's size).
    const big = join(project.dir, 'big.csv')
    writeFileSync(big, `arrival\n${Array.from({ length: 300_000 }, (_, i) => (300_000 - i) / 1000).join('\n')}\n`)
    const long = plan('trace', { file: big })
    expect(long.arrivalsMs.length).toBe(300_000)
    expect(long.arrivalsMs[0]).toBe(0)
  })

  it('ramp measures each rate on its own and trace replays a file relative to its bench', async () => {
    const report = await runBenchmarks({ cwd: project.dir })
    const ramp = report.jobs.find((j) => j.name === 'ramp')!
    expect(ramp.status, JSON.stringify(ramp)).toBe('passed')
    if (ramp.status !== 'passed') return
    expect(ramp.ramp!.steps.map((s) => s.rate)).toEqual([100, 200, 300])
    // Each step answered about its own rate (Poisson over 0.4 s: within 35%).
    for (const s of ramp.ramp!.steps) expect(Math.abs(s.achievedRps - s.rate) / s.rate).toBeLessThan(0.35)
    // The job's own row is its highest valid step (300/s unless a busy machine sent that one late).
    const valid = ramp.ramp!.steps.filter((s) => s.valid).map((s) => s.rate)
    expect(valid.length).toBeGreaterThan(0)
    expect(ramp.rate!.offered).toBe(Math.max(...valid))
    const replay = report.jobs.find((j) => j.name === 'replay')!
    expect(replay.status === 'skipped' ? 0 : replay.requests?.scheduled).toBe(4)
  }, 60_000)
})
