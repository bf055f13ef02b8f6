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
const autocannonRates: number[] = []
const ratios: number[] = []

async function autocannonRate(): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SLICE_S, pipelining: 1 })
  return result.requests.total / (result.duration)
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
    warmup: '500ms',
  }, async (result) => {
    const autocannonReqPerSec = await autocannonRate()
    autocannonRates.push(autocannonReqPerSec)
    const ratio = result.throughput.requestsPerSec / autocannonReqPerSec
    ratios.push(ratio)
    const figures: Record<string, number> = { inferbenchReqPerSec: result.throughput.requestsPerSec, autocannonReqPerSec, ratio }
    return ratios.length === ROUNDS.length ? { ...figures, medianRatio: median(ratios) } : figures
  })
})
