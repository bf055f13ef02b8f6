import { describe as d, expect, it } from 'vitest'
import { afterAll, beforeAll, bench, describe } from '../../core/api.ts'
import { collectFile } from '../../core/collector.ts'
import { parseConfig, type ResolvedConfig } from '../../core/config.ts'
import { model } from '../../core/model-ref.ts'
import { planJobs } from '../../core/plan.ts'
import { createRegistry, definePlugin, type BackendFactory, type Reporter } from '../../core/plugin.ts'
import type { JobReport } from '../../core/report.ts'
import { workload } from '../../core/workload.ts'
import { models } from '../../plugins/models/index.ts'
import { workloads } from '../../plugins/workloads/index.ts'
import { runLocal } from '../../runners/local.ts'
import { TEST_CACHE_DIR } from '../helpers/temp-project.ts'

// A third-party-style backend: answers after a fixed delay and reports server timings.
const delayed: BackendFactory = async (ctx) => {
  const ms = Number(ctx.params.delayMs ?? 1)
  return {
    infer: () => new Promise((resolve) => setTimeout(() => resolve({ serverTimings: { queueUs: 100, computeUs: ms * 1000 } }), ms)),
    close: async () => {},
    versions: { 'delay-backend': '1.0.0' },
    coldStart: { spawnMs: 12 },
  }
}
// A backend whose answers carry no timings, but whose server keeps Triton-style cumulative counters.
const counted: BackendFactory = async () => {
  let requests = 0
  return {
    infer: async () => { requests++ },
    close: async () => {},
    statistics: async () => ({ requests, queueUs: requests * 250, computeUs: requests * 1500 }),
  }
}
// A backend with 3 instances: it asks the warm-up to keep 3 requests in flight, and records the
// most it saw in flight during warm-up (the phase before the first statistics snapshot).
let warmupPeak = 0
const instanced: BackendFactory = async () => {
  let inFlight = 0
  let measuring = false
  return {
    infer: async () => {
      inFlight++
      if (!measuring) warmupPeak = Math.max(warmupPeak, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 1))
      inFlight--
    },
    close: async () => {},
    warmupConcurrency: 3,
    statistics: async () => { measuring = true; return undefined },
  }
}
// A backend that burns 1 ms of this thread's CPU per request, against one that sleeps 1 ms.
const busy: BackendFactory = async () => ({
  infer: async () => { const until = performance.now() + 1; while (performance.now() < until); },
  close: async () => {},
})
const sleepy: BackendFactory = async () => ({
  infer: () => new Promise<void>((resolve) => setTimeout(resolve, 1)),
  close: async () => {},
})
const registry = createRegistry([definePlugin({ name: 'delay', backends: { delay: delayed, counted, instanced, busy, sleepy }, axes: { delayMs: 'service time of the delay backend' } }), models(), workloads()])
const config: ResolvedConfig = {
  ...parseConfig({ measurement: { minDuration: 100, minRequests: 5 } }, 'test'),
  root: '/project', cacheDir: TEST_CACHE_DIR, plugins: [], bail: 0,
}

async function run(body: () => void) {
  const root = await collectFile('/project/x.bench.ts', async () => body())
  const jobs = planJobs([root], { root: '/project', registry, defaults: { ...config.defaults, workload: workload.closed({ duration: 200 }) } })
  const events: string[] = []
  const reporter: Reporter = {
    onRunStart: (j) => { events.push(`start ${j.length}`) },
    onJobStart: (j) => { events.push(`job ${j.name}`) },
    onJobEnd: (j, r) => { events.push(`end ${j.name} ${r.status}`) },
    onRunEnd: () => { events.push('run end') },
  }
  const report = await runLocal({ jobs, registry, config, reporters: [reporter] })
  return { report, events }
}

d('local runner', () => {
  it('runs hooks around their suite, reports server timings, cold start and the check figures', async () => {
    const log: string[] = []
    const { report, events } = await run(() => {
      describe('s', { model: model.generate('fc', { layers: 1, width: 8 }), backend: 'delay', delayMs: [2, 4] }, () => {
        beforeAll(() => { log.push('before') })
        afterAll(() => { log.push('after') })
        bench('b', { warmup: { requests: 3 } }, (r) => {
          log.push(`check ${r.params.delayMs}`)
          return { p50x2: r.latency.p50 * 2 }
        })
      })
    })
    expect(log).toEqual(['before', 'check 2', 'check 4', 'after'])
    expect(events).toEqual(['start 2', 'job b', 'end b passed', 'job b', 'end b passed', 'run end'])
    const job = report.jobs[1] as Extract<JobReport, { status: 'passed' }>
    expect(job.serverTimings?.computeMs).toBeCloseTo(4)
    expect(job.serverTimings?.queueMs).toBeCloseTo(0.1)
    expect(job.latency.p50).toBeGreaterThanOrEqual(4)
    expect(job.coldStart?.spawnMs).toBe(12)
    expect(job.extra?.p50x2).toBeCloseTo(job.latency.p50 * 2)
    expect(report.fingerprint.libraries['delay-backend']).toBe('1.0.0')
    expect(job.stability.windows).toHaveLength(5)
  })

  it("reports the process's CPU time per answered request over the measurement", async () => {
    const { report } = await run(() => {
      bench('busy', { backend: 'busy', workload: workload.closed({ requests: 200 }) })
      bench('sleepy', { backend: 'sleepy', workload: workload.closed({ requests: 200 }) })
    })
    const [busyJob, sleepyJob] = report.jobs as Array<Extract<JobReport, { status: 'passed' }>>
    // 1 ms of CPU per request on this thread, plus the generator's own few microseconds.
    expect(busyJob!.processCpu!.perRequestUs).toBeGreaterThan(900)
    expect(busyJob!.processCpu!.perRequestUs).toBeLessThan(1600)
    expect(busyJob!.processCpu!.cores).toBeGreaterThan(0.7)
    // Sleeping costs the process a small fraction of that (timers, the generator, the process's other threads).
    expect(sleepyJob!.processCpu!.perRequestUs).toBeLessThan(busyJob!.processCpu!.perRequestUs * 0.5)
    expect(sleepyJob!.processCpu!.userMs + sleepyJob!.processCpu!.systemMs).toBeCloseTo(sleepyJob!.processCpu!.perRequestUs * sleepyJob!.requests.ok / 1000, 3)
  })

  it('falls back to the deltas of server statistics when answers carry no timings', async () => {
    const { report } = await run(() => {
      bench('counted', { backend: 'counted', workload: workload.closed({ requests: 40 }), warmup: { requests: 5 } })
    })
    const job = report.jobs[0] as Extract<JobReport, { status: 'passed' }>
    // Warm-up and cold start requests happened before the first snapshot: only the 40 measured count.
    expect(job.serverTimings).toEqual({ queueMs: 0.25, computeMs: 1.5, answers: 40, source: 'statistics' })
    expect(job.params).toEqual({ backend: 'counted', batch: 1 })
  })

  it('errors every job of a suite whose beforeAll failed, and a failing check fails its job', async () => {
    const { report } = await run(() => {
      describe('broken', { model: model.generate('fc', { layers: 1, width: 8 }), backend: 'delay', batch: [1, 2] }, () => {
        beforeAll(() => { throw new Error('no GPU here') })
        bench('b', {})
      })
      bench('checked', { model: model.generate('fc', { layers: 1, width: 8 }), backend: 'delay' }, () => { throw new Error('too slow') })
    })
    expect(report.jobs.map((j) => j.status)).toEqual(['errored', 'errored', 'failed'])
    const first = report.jobs[0] as Extract<JobReport, { status: 'errored' }>
    expect(first.error.message).toMatch(/beforeAll of describe\('broken'\) in \/project\/x\.bench\.ts: no GPU here/)
    expect((report.jobs[2] as Extract<JobReport, { status: 'failed' }>).failures).toEqual(['check: too slow'])
  })

  it('warms up every instance the backend has, even before an open-loop workload', async () => {
    warmupPeak = 0
    const { report } = await run(() => {
      bench('open', { backend: 'instanced', workload: workload.poisson({ rate: 200, duration: '300ms' }), warmup: { requests: 30 } })
    })
    expect(report.jobs[0]!.status, JSON.stringify(report.jobs[0])).not.toBe('errored')
    expect(warmupPeak).toBe(3)
  })
})
