import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeHistogram } from '../../core/stats/histogram.ts'
import { TEST_CACHE_DIR, runCli, tempProject } from '../helpers/temp-project.ts'

const cleanups: Array<() => void> = []
afterEach(() => { while (cleanups.length) cleanups.pop()!() })

const config = (extra = '') => `import { defineConfig } from 'inferbench'
export default defineConfig({
  cacheDir: ${JSON.stringify(TEST_CACHE_DIR)},
  defaults: { warmup: '100ms' },
  // Short runs on a shared CI machine: a send 20 ms late is a stall worth failing for, a 2 ms one is noise here.
  measurement: { minDuration: '200ms', minRequests: 20, lateThreshold: '20ms' },
  ${extra}
})
`

function project(files: Record<string, string>) {
  const p = tempProject(files)
  cleanups.push(p.cleanup)
  return p.dir
}

const TINY = `model.generate('fc', { layers: 2, width: 32, inputDim: 16 })`

describe('the inferbench CLI', () => {
  it('runs a bench file from another project and writes the JSON report', async () => {
    const dir = project({
      'inferbench.config.ts': config(),
      'suite.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
describe('tiny mlp', { model: ${TINY}, batch: [1, 4] }, () => {
  bench('closed', { workload: workload.closed({ concurrency: 2, duration: '400ms' }), slo: { p99: '1s' } })
  bench('poisson', { workload: workload.poisson({ rate: 100, duration: '400ms', seed: 3 }) }, (r) => ({ doubled: r.throughput.requestsPerSec * 2 }))
})
bench('sum of 100 numbers', () => { let s = 0; for (let i = 0; i < 100; i++) s += i; return s }, { time: '100ms' })
`,
    })
    const result = await runCli(['--reporter', 'default', '--reporter', 'json', '--outputFile.json=out/report.json'], dir)
    expect(result.stderr).not.toMatch(/unexpected error/)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/tiny mlp/)
    expect(result.stdout).toMatch(/5 passed/)
    const report = JSON.parse(readFileSync(join(dir, 'out/report.json'), 'utf8'))
    expect(report.jobs).toHaveLength(5)
    expect(report.fingerprint.libraries['onnxruntime-node']).toMatch(/^\d+\.\d+/)
    expect(report.fingerprint.cpu.cores).toBeGreaterThan(0)
    const closed = report.jobs.find((j: { name: string; params: { batch: number } }) => j.name === 'closed' && j.params.batch === 4)
    expect(closed).toMatchObject({
      suite: 'suite.bench.ts > tiny mlp', status: 'passed',
      params: { model: 'fc(layers=2,width=32,inputDim=16)', backend: 'onnxruntime', batch: 4 },
      slo: [{ metric: 'p99', pass: true }],
      model: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    })
    expect(closed.id).toMatch(/^[0-9a-f]{12}$/)
    for (const key of ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean', 'stdev']) expect(closed.latency[key]).toBeGreaterThan(0)
    expect(closed.latency.p50).toBeLessThanOrEqual(closed.latency.p99)
    expect(closed.throughput.samplesPerSec).toBeCloseTo(closed.throughput.requestsPerSec * 4, 6)
    expect(closed.requests).toMatchObject({ errors: 0, late: 0 })
    expect(closed.coldStartMs).toBeGreaterThan(0)
    expect(decodeHistogram(closed.histogram).totalCount).toBe(closed.requests.ok)
    const poisson = report.jobs.find((j: { name: string }) => j.name === 'poisson')
    expect(poisson.rate.offered).toBe(100)
    expect(poisson.requests.scheduled).toBeGreaterThan(10)
    expect(poisson.extra.doubled).toBeCloseTo(poisson.throughput.requestsPerSec * 2)
    const fn = report.jobs.find((j: { kind: string }) => j.kind === 'function')
    expect(fn.status).toBe('passed')
    expect(fn.throughput.requestsPerSec).toBeGreaterThan(1000)
  })

  it('exits 1 when an SLO is not met, and keeps running the other jobs after one errors', async () => {
    const dir = project({
      'inferbench.config.ts': config(),
      'slo.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
describe('slo', { model: ${TINY} }, () => {
  bench('impossible', { workload: workload.closed({ duration: '300ms' }), slo: { p50: '1us' } })
  bench('not a model', { model: model.file('./broken.onnx'), workload: workload.closed({ duration: '300ms' }) })
  bench('fine', { workload: workload.closed({ duration: '300ms' }) })
})
`,
      // Exists (so the plan accepts it) but is not ONNX: the job errors when it loads, the others run.
      'broken.onnx': 'this is not a model\n',
    })
    const result = await runCli(['--reporter=json'], dir)
    expect(result.code, result.stderr).toBe(1)
    const report = JSON.parse(result.stdout)
    const status = Object.fromEntries(report.jobs.map((j: { name: string; status: string }) => [j.name, j.status]))
    expect(status).toEqual({ impossible: 'failed', 'not a model': 'errored', fine: 'passed' })
    const failed = report.jobs.find((j: { name: string }) => j.name === 'impossible')
    expect(failed.failures[0]).toMatch(/SLO p50 .* not <= 1µs/)
    const errored = report.jobs.find((j: { name: string }) => j.name === 'not a model')
    expect(errored.error.code).toMatch(/^INFERBENCH_MODEL_(INVALID|UNLOADABLE|CORRUPT)$/)
    expect(errored.error.message).toContain('broken.onnx')
  })

  it('an invalid measurement cannot pass: overflow under a met SLO fails the job and the run (exit 1); a thin p99 cannot satisfy its SLO', async () => {
    const dir = project({
      'inferbench.config.ts': config(),
      'verdict.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
describe('verdicts', { model: ${TINY} }, () => {
  // Far more arrivals than 4 outstanding requests can carry: most are never sent.
  bench('overflow', { workload: workload.poisson({ rate: 200000, duration: '1s', maxOutstanding: 4 }), warmup: false, slo: { p99: '10s' } })
  // About 100 answers: p99 rests on one of them.
  bench('thin tail', { workload: workload.constant({ rate: 100, duration: '1s' }), warmup: false, slo: { p99: '10s' } })
  bench('judged', { workload: workload.closed({ duration: '400ms' }), warmup: false, slo: { p99: '10s' } })
})
`,
    })
    const result = await runCli(['--reporter=json'], dir)
    expect(result.code, result.stderr).toBe(1)
    const jobs = Object.fromEntries(JSON.parse(result.stdout).jobs.map((j: { name: string }) => [j.name, j]))
    expect(jobs.overflow.status).toBe('failed')
    expect(jobs.overflow.validity.valid).toBe(false)
    expect(jobs.overflow.slo[0].pass).toBe(true)
    expect(jobs.overflow.failures).toEqual([expect.stringMatching(/^invalid: \d+ of \d+ scheduled requests were not sent: .*; lower the rate, or raise maxOutstanding$/)])
    expect(jobs['thin tail'].status).toBe('failed')
    expect(jobs['thin tail'].slo[0]).toMatchObject({ metric: 'p99', pass: false, thinTail: { needed: 1000 } })
    expect(jobs['thin tail'].failures[0]).toMatch(/^SLO p99 .* cannot be judged against 10s: it rests on .* answers beyond it; 1000 answered requests resolve p99$/)
    expect(jobs.judged.status).toBe('passed')
    expect(jobs.judged.requests.ok).toBeGreaterThan(1000)
  })

  it('a misspelt or unclaimed axis stops --list and a run with exit 2, naming the nearest name', async () => {
    const dir = project({
      'inferbench.config.ts': config(),
      'typo.bench.ts': `import { bench, describe, model } from 'inferbench'
describe('typo', { model: ${TINY}, intraOpThread: 2 }, () => { bench('b', {}) })
`,
    })
    for (const args of [['--list'], []]) {
      const result = await runCli(args, dir)
      expect(result.code, result.stdout + result.stderr).toBe(2)
      expect(result.stderr).toMatch(/typo\.bench\.ts > typo > b: parameter 'intraOpThread' is read by nothing .*did you mean 'intraOpThreads'/)
    }
  })

  it('loads a TypeScript config and bench file from a package without "type": "module"', async () => {
    const p = tempProject({
      'inferbench.config.ts': config(),
      'cjs.bench.ts': `import { bench, model, workload } from 'inferbench'\nbench('cjs', { model: ${TINY}, workload: workload.closed({ duration: '200ms' }) })\n`,
    }, { esm: false })
    cleanups.push(p.cleanup)
    const result = await runCli(['--reporter=json'], p.dir)
    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout).jobs[0].status).toBe('passed')
  })

  it('exits 0 for met SLOs, --bail stops early, and -t filters', async () => {
    const dir = project({
      'inferbench.config.ts': config(),
      'a.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('first fails', { model: ${TINY}, workload: workload.closed({ duration: '200ms' }), slo: { p50: '1us' } })
bench('second passes', { model: ${TINY}, workload: workload.closed({ duration: '200ms' }), slo: { p99: '10s' } })
`,
    })
    const passing = await runCli(['-t', 'second', '--reporter=json'], dir)
    expect(passing.code, passing.stdout + passing.stderr).toBe(0)
    expect(JSON.parse(passing.stdout).counts).toEqual({ passed: 1, failed: 0, errored: 0, skipped: 1 })
    const bailed = await runCli(['--bail', '--reporter=json'], dir)
    expect(bailed.code).toBe(1)
    const report = JSON.parse(bailed.stdout)
    expect(report.stoppedEarly).toMatch(/--bail/)
    expect(report.jobs[1].status).toBe('skipped')
  })

  it('--list prints jobs with estimates and runs nothing; filters select files', async () => {
    const dir = project({
      'inferbench.config.ts': config(),
      'one.bench.ts': `import { bench, describe, model } from 'inferbench'\ndescribe('one', { model: ${TINY}, batch: [1, 2, 4], intraOpThreads: 1 }, () => { bench('b', {}) })\n`,
      'two.bench.ts': `import { bench, model } from 'inferbench'\nbench('two', { model: ${TINY} })\n`,
    })
    const listed = await runCli(['--list', 'one'], dir)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toMatch(/3 jobs to run \(0 skipped\), estimated 17s/)
    expect(listed.stdout).not.toMatch(/two/)
    // Each job's backend options: what its parameters set, and the schema's defaults.
    expect(listed.stdout.match(/onnxruntime options: set intraOpThreads=1; defaults thread=auto, instances=1/g)).toHaveLength(3)
  })

  it('exits 2 with the file and field for a config error, a bad flag, or a bad bench', async () => {
    const badConfig = project({ 'inferbench.config.ts': config(`bail: 'yes',`), 'x.bench.ts': '' })
    const r1 = await runCli([], badConfig)
    expect(r1.code).toBe(2)
    expect(r1.stderr).toMatch(/inferbench\.config\.ts: bail: /)
    const r2 = await runCli(['--bogus-flag'], badConfig)
    expect(r2.code).toBe(2)
    expect(r2.stderr).toMatch(/Unknown option `--bogusFlag`/)
    const badBench = project({
      'inferbench.config.ts': config(),
      'x.bench.ts': `import { bench, model, workload } from 'inferbench'\nbench('b', { model: ${TINY}, workload: workload.closed({ concurrency: 1 }) })\n`,
    })
    const r3 = await runCli([], badBench)
    expect(r3.code).toBe(2)
    expect(r3.stderr).toMatch(/x\.bench\.ts > b: workload closed: .*give a duration or a number of requests/)
    const r4 = await runCli(['nothing-matches-this'], badBench)
    expect(r4.code).toBe(2)
    expect(r4.stderr).toMatch(/no bench files found/)
  })
})
