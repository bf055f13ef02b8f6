import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { collectFingerprint } from '../../core/fingerprint.ts'
import type { JobReport, RunReport } from '../../core/report.ts'
import { PerfDb } from '../../core/store/perf-db.ts'
import { parseSlo } from '../../reporters/analysis/recommend.ts'
import { REPO_ROOT, runCli, tempProject } from '../helpers/temp-project.ts'

const project = tempProject({})
afterAll(() => project.cleanup())
const fingerprint = collectFingerprint(REPO_ROOT, '0.0.0', {})

/** A stored job: backend and batch as given; p99 and samples/s as given; 5,000 answers, stable and valid. */
function job(name: string, backend: string, batch: number, p99: number, samplesPerSec: number, extra: Partial<{ usdPerM: number; valid: boolean; ok: number; stable: boolean }> = {}): JobReport {
  return {
    id: `${name}-${backend}-${batch}`, suite: 'recs.bench.ts > mlp', name, file: '/x/recs.bench.ts', kind: 'serving',
    params: { model: 'fc(layers=2)', backend, batch }, estimateMs: 1000, slo: [], status: 'passed',
    latency: { min: 0.1, p50: p99 / 3, p90: p99 / 2, p95: p99 / 1.5, p99, p999: p99 * 2, max: p99 * 3, mean: p99 / 3, stdev: 1 },
    throughput: { requestsPerSec: samplesPerSec / batch, samplesPerSec }, requests: { ok: extra.ok ?? 5000, errors: 0, late: 0, overflow: 0 },
    batch, durationMs: 5000, stability: { stable: extra.stable ?? true, reason: '', windows: [] },
    validity: { valid: extra.valid ?? true, problems: [], warnings: [] },
    ...(extra.usdPerM !== undefined ? { cost: { cloud: { instance: 'aws:c7i.xlarge', usdPerHour: 0.1785, perMillionRequestsUsd: extra.usdPerM, source: 'test' } } } : {}),
  } as JobReport
}
function store(jobs: JobReport[], at: string, file = 'perf.db'): void {
  const db = PerfDb.open(join(project.dir, file))
  const run: RunReport = { startedAt: at, finishedAt: at, durationMs: 1, fingerprint, jobs, counts: { passed: jobs.length, failed: 0, errored: 0, skipped: 0 } }
  db.importRun(run, 'test')
  db.close()
}

describe('inferbench recommend', () => {
  it('knows the right top 3 on a hand-built PerfDB, by throughput and by cost; none meets → the closest, said so', async () => {
    store([
      job('a', 'onnxruntime', 1, 4, 2_000, { usdPerM: 0.05 }),
      job('a', 'onnxruntime', 8, 12, 9_000, { usdPerM: 0.02 }),
      job('a', 'onnxruntime', 32, 60, 20_000, { usdPerM: 0.01 }), // misses p99<50ms
      job('b', 'server', 8, 20, 7_000, { usdPerM: 0.03 }),
      job('b', 'server', 16, 30, 11_000),                         // best throughput; no cost figure
      job('c', 'server', 64, 10, 50_000, { valid: false }),       // invalid: never recommended
      job('d', 'server', 4, 5, 40_000, { ok: 500 }),              // 500 answers: p99 rests on 5 beyond it
    ], '2026-11-30T08:00:00.000Z')
    const cli = (...args: string[]) => runCli(['recommend', '--db', 'perf.db', ...args], project.dir)
    const byThroughput = JSON.parse((await cli('--slo', 'p99<50ms', '--json')).stdout) as { meets: Array<{ id: string; confidence: string }>; unjudged: number; invalid: number }
    expect(byThroughput.meets.map((m) => m.id)).toEqual(['b-server-16', 'a-onnxruntime-8', 'b-server-8'])
    expect(byThroughput).toMatchObject({ unjudged: 1, invalid: 1 })
    // One stored run each: stable and valid is 'medium'; 'high' needs 3+ runs that agree.
    expect(byThroughput.meets[0]!.confidence).toBe('medium')
    const byCost = JSON.parse((await cli('--slo', 'p99<50ms', '--objective', 'cost', '--json')).stdout) as { meets: Array<{ id: string }>; withoutObjective: number }
    expect(byCost.meets.map((m) => m.id)).toEqual(['a-onnxruntime-8', 'b-server-8', 'a-onnxruntime-1'])
    expect(byCost.withoutObjective).toBe(1)
    const filtered = JSON.parse((await cli('--slo', 'p99<=20ms,throughput>=5000', '--backend', 'server', '--json')).stdout) as { meets: Array<{ id: string }> }
    expect(filtered.meets.map((m) => m.id)).toEqual(['b-server-8'])

    // Meeting the SLO without a figure to rank by is said as such, not as "nothing meets it".
    const noEnergy = await cli('--slo', 'p99<50ms', '--objective', 'energy')
    expect(noEnergy.stdout).toMatch(/4 stored configurations meet p99<50ms, but none has an energy figure to rank by/)
    const none = await cli('--slo', 'p99<3ms')
    expect(none.code).toBe(0)
    expect(none.stdout).toMatch(/no stored configuration meets p99<3ms; the closest:/)
    expect(none.stdout).toMatch(/1\. model=fc\(layers=2\), backend=onnxruntime, batch=1 +33% beyond the SLO/)

    // Three agreeing runs of the winner raise its confidence.
    store([job('b', 'server', 16, 30, 11_100)], '2026-11-30T09:00:00.000Z')
    store([job('b', 'server', 16, 30, 10_900)], '2026-11-30T10:00:00.000Z')
    const again = JSON.parse((await cli('--slo', 'p99<50ms', '--json')).stdout) as { meets: Array<{ id: string; confidence: string }> }
    expect(again.meets[0]).toMatchObject({ id: 'b-server-16', confidence: 'high' })
  }, 60_000)

  it('reads SLOs like p99<50ms and refuses what it cannot read', () => {
    expect(parseSlo('p99<50ms, throughput>=500')).toEqual([{ metric: 'p99', op: '<', value: 50 }, { metric: 'throughput', op: '>=', value: 500 }])
    expect(() => parseSlo('p98<5ms')).toThrow(/'p98<5ms' is not <metric><op><value>/)
    expect(() => parseSlo('p99>5ms')).toThrow(/latency is a ceiling/)
    expect(() => parseSlo('p99<fast')).toThrow(/expected a duration like '50ms'/)
  })
})

describe('inferbench leaderboard', () => {
  it('ranks every stored configuration by the chosen figure, filters on parameters, and puts missing figures last', async () => {
    store([
      job('a', 'onnxruntime', 1, 4, 2_000, { usdPerM: 0.05 }),
      job('a', 'onnxruntime', 8, 12, 9_000, { usdPerM: 0.02 }),
      job('b', 'server', 16, 30, 11_000),
    ], '2026-11-30T08:00:00.000Z', 'board.db')
    const cli = (...args: string[]) => runCli(['leaderboard', '--db', 'board.db', ...args], project.dir)
    const ids = async (...args: string[]) => (JSON.parse((await cli(...args, '--json')).stdout) as Array<{ id: string }>).map((r) => r.id)
    expect(await ids()).toEqual(['b-server-16', 'a-onnxruntime-8', 'a-onnxruntime-1'])
    expect(await ids('--sort', 'p99')).toEqual(['a-onnxruntime-1', 'a-onnxruntime-8', 'b-server-16'])
    // Cost per million samples: 0.02 / 8 beats 0.05 / 1; the server job has no cost figure and comes last.
    expect(await ids('--sort', 'cost')).toEqual(['a-onnxruntime-8', 'a-onnxruntime-1', 'b-server-16'])
    expect(await ids('--filter', 'backend=onnxruntime', '--filter', 'batch=8')).toEqual(['a-onnxruntime-8'])
    const table = await cli('--limit', '2')
    expect(table.stdout).toMatch(/3 configurations, by throughput \(top 2\)/)
    expect(table.stdout).toMatch(/1 +b +fc\(layers=2\) +server +16 /)
    // A filter key no configuration has is a typo: said, with the keys there are.
    const typo = await cli('--filter', 'bacend=server')
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/--filter: no stored configuration has 'bacend'; keys: workload, hardware, bench, model, backend, batch/)
    const bad = await cli('--filter', 'backend')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--filter: expected key=value \(equal\) or key~text \(contains\)/)
  }, 60_000)
})
