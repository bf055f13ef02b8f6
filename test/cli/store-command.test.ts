import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startCli } from '../helpers/cli-process.ts'
import { runCli, tempProject } from '../helpers/temp-project.ts'

// A backend that busy-waits a service time read from delay.txt when the job starts: the same job
// (same id) can be made slower between runs without touching the bench file.
const project = tempProject({
  'inferbench.config.ts': `import { defineConfig, definePlugin } from 'inferbench'
import { readFileSync } from 'node:fs'
const busy = definePlugin({ name: 'busy', backends: { busy: async () => {
  const ms = Number(readFileSync('delay.txt', 'utf8'))
  return { infer: async () => { const until = performance.now() + ms; while (performance.now() < until); }, close: async () => {} }
} } })
export default defineConfig({ plugins: [busy], measurement: { minDuration: 300, minRequests: 20 } })
`,
  'svc.bench.ts': `import { bench, workload } from 'inferbench'
bench('svc', { backend: 'busy', workload: workload.closed({ duration: '1s' }), warmup: '200ms' })
bench('long', { backend: 'busy', workload: workload.closed({ duration: process.env.LONG ? '20s' : '300ms' }) })
`,
  'delay.txt': '1',
})
afterAll(() => project.cleanup())
const cli = (...args: string[]) => runCli(args, project.dir)

describe('PerfDB from the command line', () => {
  it('stores every run; history lists runs and a job across runs; compare flags a slowed backend and not an identical run', async () => {
    for (let i = 0; i < 3; i++) expect((await cli('-t', 'svc')).code).toBe(0)
    const identical = await cli('-t', 'svc', '--compare', '3', '--fail-on-regression', '10', '--reporter', 'default', '--reporter', 'json', '--outputFile.json', 'run4.json')
    expect(identical.code, identical.stdout + identical.stderr).toBe(0)
    expect(identical.stdout).toMatch(/PerfDB {2}run 4 in \.inferbench\/perf\.db/)
    expect(identical.stdout).toMatch(/run 3 \(.*\) {2}→ {2}run 4 \(this run\)/)
    expect(identical.stdout, identical.stdout).toMatch(/> svc {2}same within noise/)
    expect(identical.stdout).toMatch(/0 slower, 0 faster, 1 same within noise\n/)
    expect(identical.stdout).toMatch(/no regression beyond noise larger than 10\.0%/)

    writeFileSync(join(project.dir, 'delay.txt'), '3')
    const slowed = await cli('-t', 'svc', '--compare', '4', '--fail-on-regression', '10')
    expect(slowed.code, slowed.stdout + slowed.stderr).toBe(1)
    expect(slowed.stdout).toMatch(/↓ .*\+\d{3}\.\d%\*.*> svc {2}slower/)
    expect(slowed.stdout).toMatch(/regression beyond noise of \d+\.\d% \((p50|p99|throughput) of svc\.bench\.ts > svc\) exceeds --fail-on-regression 10\.0%/)
    // A CI retry of the slowed code: the regression already stored (run 5) must not widen the
    // run-to-run spread it is judged against (only runs up to the baseline count).
    const retried = await cli('-t', 'svc', '--compare', '4', '--fail-on-regression', '10')
    expect(retried.code, retried.stdout).toBe(1)
    expect(retried.stdout).toMatch(/> svc {2}slower/)
    writeFileSync(join(project.dir, 'delay.txt'), '1')

    const history = await cli('history')
    expect(history.code).toBe(0)
    expect(history.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['6', '5', '4', '3', '2', '1'])
    const jobs = await cli('history', '--job', '^svc$|> svc', '--json')
    const rows = JSON.parse(jobs.stdout) as Array<{ runId: number; latency: { p50: number } }>
    expect(rows.map((r) => r.runId)).toEqual([6, 5, 4, 3, 2, 1])
    expect(rows[1]!.latency.p50).toBeGreaterThan(2.5 * rows[2]!.latency.p50)

    // Two runs by id from the command line, and a JSON report against a stored run.
    const byId = await cli('compare', '4', '5', '--json')
    expect(JSON.parse(byId.stdout)).toMatchObject({ jobs: [{ name: 'svc.bench.ts > svc', verdict: 'slower' }] })
    const fromFile = await cli('compare', 'run4.json', '5')
    expect(fromFile.stdout).toMatch(/run4\.json \(.*\) {2}→ {2}run 5/)
    expect(fromFile.stdout).toMatch(/> svc {2}slower/)

    // run4.json is run 4 itself (same start, same host): importing it adds nothing.
    expect((await cli('import', 'run4.json')).stdout).toMatch(/run4\.json is already stored as run 4 \(same start time and host\); not imported again/)
    const report = JSON.parse(readFileSync(join(project.dir, 'run4.json'), 'utf8'))
    writeFileSync(join(project.dir, 'ci.json'), JSON.stringify({ ...report, startedAt: '2026-01-02T03:04:05.000Z' }))
    const imported = await cli('import', 'ci.json', '--json')
    expect(JSON.parse(imported.stdout)).toEqual({ imported: [{ file: 'ci.json', runId: 7, jobs: 2, alreadyStored: false }] })
    expect((await cli('history', '--limit', '1')).stdout).toMatch(/\n7 .* import:ci\.json/)
    expect((await cli('-t', 'svc', '--no-store')).stdout).not.toMatch(/PerfDB/)
    expect((await cli('history', '--limit', '1')).stdout).toMatch(/\n7 /)
  }, 180_000)

  it('a run killed with SIGKILL keeps its finished jobs and shows as interrupted', async () => {
    process.env.LONG = '1'
    const run = startCli([], project.dir)
    delete process.env.LONG
    // Wait until the first job has been stored, then kill the run in its second.
    await run.waitFor(/✓ svc/)
    await new Promise((resolve) => setTimeout(resolve, 300))
    run.child.kill('SIGKILL')
    await run.exited
    const history = await cli('history', '--json', '--limit', '1')
    const [last] = JSON.parse(history.stdout) as Array<{ status: string; counts: { passed: number }; stoppedEarly: string }>
    expect(last).toMatchObject({ status: 'interrupted', counts: { passed: 1 } })
    expect(last!.stoppedEarly).toMatch(/process ended without finishing the run/)
  }, 60_000)

  it('refuses a file that is not a JSON report, and an unknown run id, naming what is wrong', async () => {
    writeFileSync(join(project.dir, 'bad.json'), JSON.stringify({ startedAt: 'yesterday', jobs: [{ id: 'x', status: 'passed' }] }))
    const bad = await cli('import', 'bad.json')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/bad\.json is not an inferbench JSON report/)
    expect(bad.stderr).toMatch(/startedAt: /)
    const missing = await cli('compare', '999', '1')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/holds no run 999; latest: \d+/)
    expect(readFileSync(join(project.dir, 'delay.txt'), 'utf8')).toBe('1')
  }, 60_000)
})
