import { spawn, type ChildProcess } from 'node:child_process'
import http from 'node:http'
import { createServer } from 'node:net'
import autocannon from 'autocannon'
import { afterAll, beforeAll, bench, describe, workload } from 'inferbench'
import { poissonArrivals } from '../../core/loadgen/arrivals.ts'
// @ts-expect-error: a plain .mjs file, like the other references
import { minimalSendSchedule } from './reference/minimal-send-schedule.mjs'

/**
 * The load generator against autocannon on the same trivial HTTP endpoint, same machine, same
 * run: requests per second each, and the ratio. The endpoint runs in its own process. Each
 * inferbench job is paired with the autocannon runs before and after it, so the pairs alternate
 * order (A B, B A, ...) and drift favours neither. Target: ≥ 1.0 of autocannon.
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
let lastAutocannon: { rate: number; cpuPerRequestUs: number } | undefined

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
    // Each inferbench job is compared with the autocannon run after it and with the one before
    // it (the previous round's): the pairs alternate order (A B, B A, A B, ...) so drift favours
    // neither side.
    const cpuUs = result.processCpu!.perRequestUs
    if (lastAutocannon) {
      ratios.push(result.throughput.requestsPerSec / lastAutocannon.rate)
      cpuRatios.push(cpuUs / lastAutocannon.cpuPerRequestUs)
    }
    const ac = await autocannonRun()
    lastAutocannon = ac
    const ratio = result.throughput.requestsPerSec / ac.rate
    ratios.push(ratio)
    // CPU of this process per answered request: inferbench's from its measurement, autocannon's
    // around its measured run. Target: ≤ autocannon's (ratio ≤ 1).
    const cpuRatio = cpuUs / ac.cpuPerRequestUs
    cpuRatios.push(cpuRatio)
    const figures: Record<string, number> = {
      inferbenchReqPerSec: result.throughput.requestsPerSec, autocannonReqPerSec: ac.rate, ratio,
      inferbenchCpuUsPerRequest: cpuUs, autocannonCpuUsPerRequest: ac.cpuPerRequestUs, cpuRatio,
    }
    return ratios.length === 2 * ROUNDS.length - 1 ? { ...figures, pairs: ratios.length, medianRatio: median(ratios), medianCpuRatio: median(cpuRatios) } : figures
  })
})

/**
 * Send lateness of the open loop at 1,000 req/s (Poisson) against the same endpoint, one core
 * left idle for the generator. Target: send delay p99 < 0.5 ms and no late send (> 2 ms).
 * Then the simplest correct scheduler (reference/minimal-send-schedule.mjs) follows the same
 * schedule with nothing to send (what this machine allows any generator) and sending each
 * request with node:http (what the simplest generator achieves).
 */
const LATE_MS = 2
describe('open-loop send lateness at 1,000 req/s', { backend: 'http', url }, () => {
  bench('Poisson 1,000 req/s, 5 s', { workload: workload.poisson({ rate: 1000, duration: '5s', seed: 1 }), warmup: '500ms' }, async (result) => {
    const d = result.sendDelay!
    const arrivals = poissonArrivals(1000, 5000, 1)
    const lateness = async (send?: () => void) => {
      const delays = [...(await minimalSendSchedule(arrivals, send) as Float64Array)].sort((a, b) => a - b)
      return { p99: delays[Math.ceil(0.99 * delays.length) - 1]!, max: delays.at(-1)!, late: delays.filter((ms) => ms > LATE_MS).length }
    }
    const idle = await lateness()
    const agent = new http.Agent({ keepAlive: true })
    const plain = await lateness(() => { http.get(url, { agent }, (res) => res.resume()).on('error', () => {}) })
    agent.destroy()
    return {
      sendDelayP99Ms: d.p99, sendDelayMaxMs: d.max, late: result.requests.late, targetP99Ms: 0.5,
      nothingSentP99Ms: idle.p99, nothingSentMaxMs: idle.max, nothingSentLate: idle.late,
      nodeHttpP99Ms: plain.p99, nodeHttpMaxMs: plain.max, nodeHttpLate: plain.late,
    }
  })
})
