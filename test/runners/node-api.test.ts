import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { planBenchmarks, runBenchmarks } from '../../runners/node-api.ts'
import { TEST_CACHE_DIR, tempProject } from '../helpers/temp-project.ts'

describe('inferbench/node: plan and run in-process, the report returned', () => {
  const project = tempProject({
    'inferbench.config.ts': `import { defineConfig } from 'inferbench'
export default defineConfig({ cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, reporters: ['default', 'json'], outputFile: 'never-written.json',
  defaults: { warmup: '100ms' }, measurement: { minDuration: '200ms', minRequests: 20 } })
`,
    'tiny.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
describe('tiny', { model: model.generate('fc', { layers: 1, width: 16, inputDim: 8 }), batch: [1, 4] }, () => {
  bench('closed', { workload: workload.closed({ duration: '300ms' }), slo: { p99: '5s' } })
  bench('impossible', { workload: workload.closed({ duration: '300ms' }), slo: { p50: '1us' } })
})
`,
  })
  afterAll(project.cleanup)

  it('plans the jobs --list would show', async () => {
    const jobs = await planBenchmarks({ cwd: project.dir })
    expect(jobs.map((j) => `${j.name} ${j.params.batch}`)).toEqual(['closed 1', 'closed 4', 'impossible 1', 'impossible 4'])
  })

  it('runs them and resolves to the RunReport, with no reporter writing anything unless given one', async () => {
    const seen: string[] = []
    const report = await runBenchmarks({
      cwd: project.dir, overrides: { testNamePattern: 'batch=1' },
      reporters: [{ onJobEnd: (job, r) => { seen.push(`${job.name}:${r.status}`) } }],
    })
    expect(report.jobs.map((j) => `${j.name} ${j.params.batch} ${j.status}`)).toEqual(['closed 1 passed', 'closed 4 skipped', 'impossible 1 failed', 'impossible 4 skipped'])
    expect(report.counts).toMatchObject({ passed: 1, failed: 1, skipped: 2 })
    expect(seen.sort()).toEqual(['closed:passed', 'closed:skipped', 'impossible:failed', 'impossible:skipped'])
    // The config's own reporters (default, json to never-written.json) are not run in-process.
    expect(existsSync(join(project.dir, 'never-written.json'))).toBe(false)
    const closed = report.jobs.find((j) => j.status === 'passed')!
    expect(closed.status === 'passed' && closed.requests.ok).toBeGreaterThan(100)
  })

  it('an already-aborted signal runs nothing', async () => {
    const report = await runBenchmarks({ cwd: project.dir, signal: AbortSignal.abort('stop') })
    expect(report.jobs.every((j) => j.status === 'skipped')).toBe(true)
    expect(report.stoppedEarly).toBe('interrupted')
  })

  it('a folder filter finds bench files named as include names them (e.g. .bench.js)', async () => {
    const js = tempProject({
      'inferbench.config.js': `export default { include: ['benches/**/*.bench.js'], cacheDir: ${JSON.stringify(TEST_CACHE_DIR)} }\n`,
      'benches/a.bench.js': `import { bench } from 'inferbench'\nbench('js', { model: (await import('inferbench')).model.generate('fc', { layers: 1, width: 8, inputDim: 4 }) })\n`,
    })
    try {
      expect((await planBenchmarks({ cwd: js.dir, filters: ['benches/'] })).map((j) => j.name)).toEqual(['js'])
    } finally {
      js.cleanup()
    }
  })

  it('rejects a plan error with its code before anything runs', async () => {
    await expect(runBenchmarks({ cwd: project.dir, overrides: { defaults: { backend: 'nope' } } })).rejects.toMatchObject({ code: 'INFERBENCH_PLUGIN_MISSING' })
  })
})
