import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempMlp } from '../../helpers/served-model.ts'

// A model of about a millisecond, so queueing behind another request is visible in queue_us.
const mlp = tempMlp(4, 1024, 256, 1000)
const CLI = join(import.meta.dirname, '../../../bin/inferbench.js')
let server: ChildProcess
let port = 0
const agent = new Agent({ connections: 8 })

beforeAll(async () => {
  // Its own process, as `inferbench serve` runs: the client's event loop is not the server's.
  server = spawn(process.execPath, [CLI, 'serve', '--quiet', '--model', `${mlp.path}:mlp`, '--http-port', '0', '--grpc-port', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] })
  port = await new Promise<number>((resolve, reject) => {
    let out = ''
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk
      const ready = /"http":(\d+)/.exec(out)
      if (ready) resolve(Number(ready[1]))
    })
    server.once('exit', (code) => reject(new Error(`inferbench serve exited (${code}) before it was ready`)))
  })
}, 60_000)
afterAll(async () => {
  server.kill('SIGTERM')
  await agent.close()
  mlp.cleanup()
})

const body = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 256], data: new Array(256).fill(0.25) }] })

async function timedInfer(): Promise<{ latencyUs: number; queueUs: number; computeUs: number }> {
  const started = performance.now()
  const res = await request(`http://127.0.0.1:${port}/v2/models/mlp/infer`, { method: 'POST', body, dispatcher: agent })
  const answer = await res.body.json() as { parameters: { queue_us: number; compute_us: number } }
  return { latencyUs: (performance.now() - started) * 1000, queueUs: answer.parameters.queue_us, computeUs: answer.parameters.compute_us }
}

async function nullRoundTripUs(): Promise<number> {
  const started = performance.now()
  const res = await request(`http://127.0.0.1:${port}/v2/health/ready`, { dispatcher: agent })
  await res.body.text()
  return (performance.now() - started) * 1000
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

describe("the server's answer timings", () => {
  it('queue_us + compute_us + the client and network time make up the latency the client measures; waiting shows as queue', async () => {
    for (let i = 0; i < 20; i++) await timedInfer() // warm-up
    const nullRtt: number[] = []
    const alone: Array<Awaited<ReturnType<typeof timedInfer>>> = []
    const bursts: Array<Array<Awaited<ReturnType<typeof timedInfer>>>> = []
    for (let round = 0; round < 30; round++) {
      nullRtt.push(await nullRoundTripUs())
      alone.push(await timedInfer())
      bursts.push(await Promise.all([timedInfer(), timedInfer(), timedInfer(), timedInfer()]))
    }
    const all = [...alone, ...bursts.flat()]
    // The server's part never exceeds what the client saw.
    for (const a of all) expect(a.queueUs + a.computeUs).toBeLessThanOrEqual(a.latencyUs + 1)
    // Alone, what is left beyond queue + compute is the client and the network: about a null
    // round trip (plus the bodies' bytes), not a hidden millisecond.
    const rest = median(alone.map((a) => a.latencyUs - a.queueUs - a.computeUs))
    expect(rest).toBeLessThan(median(nullRtt) + 1500)
    expect(median(alone.map((a) => a.queueUs))).toBeLessThan(200)
    // Four at once on one instance: the last to run waited for about three runs, and that wait is
    // booked as queue, not compute (compute stays what one run takes).
    const lastQueued = median(bursts.map((b) => Math.max(...b.map((a) => a.queueUs))))
    const oneRun = median(alone.map((a) => a.computeUs))
    expect(lastQueued).toBeGreaterThan(1.5 * oneRun)
    expect(median(bursts.flat().map((a) => a.computeUs))).toBeLessThan(2.5 * oneRun)
  }, 60_000)
})
