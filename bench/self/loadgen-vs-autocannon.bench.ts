import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import autocannon from 'autocannon'
import { afterAll, beforeAll, bench, describe, workload } from 'inferbench'

/**
 * The load generator against autocannon on the same trivial HTTP endpoint, same machine, same
 * run: requests per second each, and the ratio. The endpoint runs in its own process; rounds
 * alternate autocannon and inferbench (ABAB) so drift favours neither. Target: ≥ 1.0 of autocannon.
 */
const CONNECTIONS = 10
const SLICE_S = 3
const WARMUP_S = 0.5
const ROUNDS = [1, 2, 3]
let endpoint: ChildProcess
// The URL is a matrix parameter, fixed when the file is collected: reserve a free port now.
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  })
})
const url = `http://127.0.0.1:${port}/`
const ratios: number[] = []
const cpuRatios: number[] = []

/**
 * autocannon in this process, given the same warm-up as the inferbench job: requests per second
 * and process CPU per answered request over the measured part only (start-up excluded).
 */
async function autocannonRun(): Promise<{ rate: number; cpuPerRequestUs: number }> {
  await autocannon({ url, connections: CONNECTIONS, duration: WARMUP_S, pipelining: 1 })
  const before = process.cpuUsage()
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SLICE_S, pipelining: 1 })
  const cpu = process.cpuUsage(before)
  return { rate: result.requests.total / result.duration, cpuPerRequestUs: (cpu.user + cpu.system) / Math.max(1, result.requests.total) }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

beforeAll(async () => {
  endpoint = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('ready'))`])
  await new Promise((resolve) => endpoint.stdout!.once('data', resolve))
})
afterAll(() => { endpoint.kill() })

describe('load generator vs autocannon, trivial endpoint', { backend: 'http', round: ROUNDS }, () => {
  bench(`inferbench closed loop, ${CONNECTIONS} clients`, {
    url,
    connections: CONNECTIONS,
    workload: workload.closed({ concurrency: CONNECTIONS, duration: SLICE_S * 1000 }),
    warmup: `${WARMUP_S * 1000}ms`,
  }, async (result) => {
    const ac = await autocannonRun()
    const ratio = result.throughput.requestsPerSec / ac.rate
    ratios.push(ratio)
    // CPU of this process per answered request: inferbench's from its measurement, autocannon's
    // around its measured run. Target: ≤ autocannon's (ratio ≤ 1).
    const cpuRatio = result.processCpu!.perRequestUs / ac.cpuPerRequestUs
    cpuRatios.push(cpuRatio)
    const figures: Record<string, number> = {
      inferbenchReqPerSec: result.throughput.requestsPerSec, autocannonReqPerSec: ac.rate, ratio,
      inferbenchCpuUsPerRequest: result.processCpu!.perRequestUs, autocannonCpuUsPerRequest: ac.cpuPerRequestUs, cpuRatio,
    }
    return ratios.length === ROUNDS.length ? { ...figures, medianRatio: median(ratios), medianCpuRatio: median(cpuRatios) } : figures
  })
})

/**
 * Send lateness of the open loop at 1,000 req/s (Poisson) against the same endpoint, one core
 * left idle for the generator. Target: send delay p99 < 0.5 ms and no late send (> 2 ms).
 */
describe('open-loop send lateness at 1,000 req/s', { backend: 'http', url }, () => {
  bench('Poisson 1,000 req/s, 5 s', { workload: workload.poisson({ rate: 1000, duration: '5s' }), warmup: '500ms' }, (result) => {
    const d = result.sendDelay!
    return { sendDelayP99Ms: d.p99, sendDelayMaxMs: d.max, late: result.requests.late, targetP99Ms: 0.5 }
  })
})
