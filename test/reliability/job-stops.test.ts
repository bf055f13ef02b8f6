import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { childrenOf, isRunning, sleep, startCli } from '../helpers/cli-process.ts'
import { runCli, tempProject, TEST_CACHE_DIR } from '../helpers/temp-project.ts'

const cleanups: Array<() => void> = []
afterEach(() => { while (cleanups.length) cleanups.pop()!() })

/**
 * A project whose config adds a reporter that appends each job's end time (epoch ms) to ends.txt,
 * so a test can tell how soon after a fault the job ended, and a backend whose factory never
 * resolves (a third-party backend that hangs while starting).
 */
function project(bench: string, measurement = '') {
  const p = tempProject({
    'inferbench.config.ts': `import { appendFileSync } from 'node:fs'
import { definePlugin } from 'inferbench/plugin'
const timing = definePlugin({ name: 'test-timing', reporters: { timing: () => ({
  onJobEnd(job, report) { appendFileSync('ends.txt', JSON.stringify({ name: job.name, status: report.status, at: Date.now() }) + '\\n') },
}) } })
const hanging = definePlugin({ name: 'test-hanging', backends: { hang: () => new Promise(() => {}) } })
export default {
  cacheDir: ${JSON.stringify(TEST_CACHE_DIR)},
  plugins: [timing, hanging],
  reporters: ['default', 'json', 'timing'],
  outputFile: { json: 'report.json' },
  defaults: { warmup: '100ms' },
  // Request-count jobs here finish in well under the default minimum duration: validity is not what these tests judge.
  measurement: { minDuration: 0, minRequests: 20${measurement} },
}
`,
    'suite.bench.ts': `import { bench, describe, model, workload } from 'inferbench'\n${bench}`,
  })
  cleanups.push(p.cleanup)
  return p.dir
}

const TINY = `model.generate('fc', { layers: 2, width: 32, inputDim: 16 })`
const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))
const ends = (dir: string) => readFileSync(join(dir, 'ends.txt'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string; status: string; at: number })

describe('Ctrl-C is not success', () => {
  it('SIGINT mid-measurement: the job is errored (interrupted) with its figures kept, the rest skipped, exit 130', async () => {
    const dir = project(`describe('tiny', { model: ${TINY} }, () => {
  bench('long', { workload: workload.closed({ concurrency: 1, duration: '20s' }) })
  bench('never', { workload: workload.closed({ concurrency: 1, duration: '1s' }) })
})`)
    const cli = startCli([], dir)
    await cli.waitFor(/INFERBENCH/)
    await sleep(1500)
    cli.child.kill('SIGINT')
    const interruptedAt = performance.now()
    const { code, at } = await cli.exited
    expect(code, cli.stdout() + cli.stderr()).toBe(130)
    expect(at - interruptedAt).toBeLessThan(5000)
    expect(cli.stdout()).toMatch(/! tiny > long .*\n.*INFERBENCH_INTERRUPTED: interrupted/)
    expect(cli.stdout()).not.toMatch(/✓/)
    expect(cli.stdout()).toMatch(/stopped early: interrupted/)
    const report = readJson(dir)
    expect(report.stoppedEarly).toBe('interrupted')
    expect(report.counts).toMatchObject({ passed: 0, errored: 1, skipped: 1 })
    const [long, never] = report.jobs
    expect(long).toMatchObject({ status: 'errored', error: { code: 'INFERBENCH_INTERRUPTED' } })
    expect(long.requests.ok).toBeGreaterThan(100)
    expect(long.latency.p50).toBeGreaterThan(0)
    expect(long.durationMs).toBeLessThan(15_000)
    expect(never).toMatchObject({ status: 'skipped', reason: 'not run: interrupted' })
  })

  it('SIGINT while the server starts: "interrupted", not "no request succeeded", and the server process is gone', async () => {
    const dir = project(`bench('server', { model: ${TINY}, backend: 'server', workload: workload.closed({ concurrency: 1, duration: '5s' }) })`)
    const cli = startCli([], dir)
    await cli.waitFor(/INFERBENCH/)
    // The server child is spawned; interrupt before it is ready (it takes over a second here).
    for (let i = 0; i < 100 && childrenOf(cli.child.pid!).length === 0; i++) await sleep(20)
    const [server] = childrenOf(cli.child.pid!)
    expect(server).toBeDefined()
    cli.child.kill('SIGINT')
    const { code } = await cli.exited
    expect(code, cli.stdout() + cli.stderr()).toBe(130)
    expect(cli.stdout()).toMatch(/INFERBENCH_INTERRUPTED: interrupted/)
    expect(cli.stdout()).not.toMatch(/no request succeeded/)
    const job = readJson(dir).jobs[0]
    expect(job).toMatchObject({ status: 'errored', error: { code: 'INFERBENCH_INTERRUPTED' } })
    expect(job.requests).toBeUndefined() // nothing was measured: warm-up or cold-start answers are not figures
    expect(isRunning(server!)).toBe(false)
  })
})

describe('a dead backend is noticed', () => {
  it('a server killed mid-job fails its job within a second, named by how it ended; figures kept; the next job runs', async () => {
    const dir = project(`describe('tiny', { model: ${TINY} }, () => {
  bench('served', { backend: 'server', workload: workload.closed({ concurrency: 2, duration: '20s' }) })
  bench('next', { workload: workload.closed({ requests: 200 }) })
})`)
    const cli = startCli([], dir)
    await cli.waitFor(/INFERBENCH/)
    for (let i = 0; i < 250 && childrenOf(cli.child.pid!).length === 0; i++) await sleep(20)
    const [server] = childrenOf(cli.child.pid!)
    expect(server).toBeDefined()
    await sleep(4000) // start-up (~1.5 s here), warm-up, then measuring
    process.kill(server!, 'SIGKILL')
    const killedAt = Date.now()
    const { code } = await cli.exited
    expect(code, cli.stdout() + cli.stderr()).toBe(1)
    const [served, next] = ends(dir)
    expect(served).toMatchObject({ name: 'served', status: 'errored' })
    console.log(`dead server: job ended ${served!.at - killedAt} ms after SIGKILL`)
    expect(served!.at - killedAt).toBeLessThan(1000)
    expect(next).toMatchObject({ name: 'next', status: 'passed' })
    expect(cli.stdout()).toMatch(/INFERBENCH_BACKEND_DIED: inferbench serve exited: SIGKILL/)
    const job = readJson(dir).jobs[0]
    expect(job.error.message).toBe('inferbench serve exited: SIGKILL')
    expect(job.requests.ok).toBeGreaterThan(50)
    // Requests that failed because the server was gone are symptoms, not measurements.
    expect(job.requests.errors).toBeLessThan(10)
  })
})

describe('a job timeout stops the job', () => {
  it('no request reaches the backend after the abort, and the next job starts only then', async () => {
    const seen: Array<{ path: string; at: number }> = []
    const server = http.createServer((req, res) => {
      seen.push({ path: req.url ?? '', at: performance.now() })
      setTimeout(() => res.end('ok'), 2)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => server.close())
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const dir = project(`bench('slow job', { backend: 'http', url: '${base}/a', workload: workload.closed({ concurrency: 4, duration: '20s' }) })
bench('next job', { backend: 'http', url: '${base}/b', workload: workload.closed({ requests: 50 }) })
bench('hanging start', { backend: 'hang', workload: workload.closed({ requests: 5 }) })
bench('after the hang', { backend: 'http', url: '${base}/c', workload: workload.closed({ requests: 50 }) })`, ", jobTimeout: '1500ms'")
    const result = await runCli([], dir)
    expect(result.code, result.stdout + result.stderr).toBe(1)
    const jobs = readJson(dir).jobs
    expect(jobs.map((j: { status: string }) => j.status)).toEqual(['errored', 'passed', 'errored', 'passed'])
    expect(jobs[0].error).toMatchObject({ code: 'INFERBENCH_JOB_TIMEOUT', message: expect.stringMatching(/measurement\.jobTimeout \(1\.5s\)/) })
    expect(jobs[0].requests.ok).toBeGreaterThan(50)
    expect(jobs[2].error).toMatchObject({ code: 'INFERBENCH_JOB_TIMEOUT' })
    const a = seen.filter((s) => s.path === '/a')
    const b = seen.filter((s) => s.path === '/b')
    expect(a.length).toBeGreaterThan(50)
    expect(b.length).toBeGreaterThanOrEqual(50 + 1) // + the cold-start request and the warm-up
    expect(Math.max(...a.map((s) => s.at))).toBeLessThan(Math.min(...b.map((s) => s.at)))
    expect(seen.filter((s) => s.path === '/c').length).toBeGreaterThan(0)
  })
})
