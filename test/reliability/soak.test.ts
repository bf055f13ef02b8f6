import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sleep, startCli } from '../helpers/cli-process.ts'
import { tempProject, TEST_CACHE_DIR } from '../helpers/temp-project.ts'

const cleanups: Array<() => void> = []
afterEach(() => { while (cleanups.length) cleanups.pop()!() })

/** Resident set size of `pid` in MB, from /proc (0 once it has ended). */
function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Number(kb) / 1024 : 0
  } catch {
    return 0
  }
}

/** Runs one open-loop job through the CLI, sampling the CLI's memory every 50 ms. */
async function openLoopRun(rate: number): Promise<{ peakRssMb: number; job: Record<string, any> }> {
  const p = tempProject({
    'inferbench.config.ts': `export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, reporters: ['json'], outputFile: { json: 'report.json' },
  defaults: { warmup: '300ms' }, measurement: { minDuration: '1s', minRequests: 100 } }\n`,
    'soak.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('open loop', { model: model.generate('fc', { layers: 4, width: 2048 }), intraOpThreads: 1,
  workload: workload.poisson({ rate: ${rate}, duration: '3s', seed: 5 }) })
`,
  })
  cleanups.push(p.cleanup)
  const cli = startCli([], p.dir)
  let peakRssMb = 0
  let running = true
  void cli.exited.then(() => { running = false })
  while (running) {
    peakRssMb = Math.max(peakRssMb, rssMb(cli.child.pid!))
    await sleep(50)
  }
  const { code } = await cli.exited
  const job = JSON.parse(readFileSync(join(p.dir, 'report.json'), 'utf8')).jobs[0]
  expect([0, 1], cli.stderr()).toContain(code)
  return { peakRssMb, job }
}

describe('an open loop far beyond capacity', () => {
  it('keeps memory within 64 MB of a run at a sustainable rate, and reports the overflow', async () => {
    const nominal = await openLoopRun(100)
    const overload = await openLoopRun(20_000)
    const capacity = overload.job.throughput.requestsPerSec
    // The premise: the offered rate is at least 10x what the backend can answer.
    expect(20_000 / capacity).toBeGreaterThan(10)
    expect(overload.job.requests.overflow).toBeGreaterThan(10_000)
    expect(overload.job.validity.valid).toBe(false)
    expect(overload.job.validity.problems.map((p: { code: string }) => p.code)).toContain('overflow')
    expect(nominal.job.requests.overflow).toBe(0)
    // In flight is capped by maxOutstanding (1024), latencies go to fixed-size histograms and the
    // schedule is one float per arrival: overload must not grow memory with the arrivals.
    console.log(`soak: capacity ${capacity.toFixed(0)} req/s; peak RSS ${nominal.peakRssMb.toFixed(0)} MB at 100 req/s, ${overload.peakRssMb.toFixed(0)} MB at 20,000 req/s; overflow ${overload.job.requests.overflow}`)
    expect(overload.peakRssMb - nominal.peakRssMb).toBeLessThan(64)
  })
})
