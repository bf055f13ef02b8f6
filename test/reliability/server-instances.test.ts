import type { Worker } from 'node:worker_threads'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../plugins/server/serve.ts'
import { serveForTest, tempMlp } from '../helpers/served-model.ts'

const mlp = tempMlp(1, 8, 4, 2)
const { path: modelPath } = mlp
let server: RunningServer
beforeAll(async () => {
  // Worker threads: only an instance in its own thread can crash and be replaced (on the main
  // thread a native crash ends the server).
  server = await serveForTest([{ path: modelPath }], { instanceThread: 'worker', batching: { maxBatch: 4, maxQueueDelayUs: 100, preferredBatch: [] } })
})
afterAll(async () => {
  await server.stop()
  mlp.cleanup()
})

const infer = (rows: number) => request(`http://127.0.0.1:${server.httpPort}/v2/models/mlp/infer`, {
  method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 4], data: new Array(rows * 4).fill(0.5) }] }),
}).then(async (r) => ({ status: r.statusCode, body: await r.body.json() as { error?: string } }))

describe("the server's model instances", () => {
  it('a request with more rows than max-batch is refused as Triton does (400), not split or hung', async () => {
    const res = await infer(5)
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(/5 rows in its batch dimension, more than max-batch 4 of model 'mlp'; split it/)
    expect((await infer(4)).status).toBe(200)
  })

  it('a crashed instance is replaced, never handed out again: requests after it are answered', async () => {
    const model = server.server.model('mlp') as unknown as { workers: Worker[] }
    const [only] = model.workers
    await only!.terminate() // as a native crash in onnxruntime would end the thread
    // The first request finds the dead instance (a server fault, 500); before the fix every later
    // request was handed the same dead thread and hung.
    const first = await infer(1)
    expect(first.status).toBe(500)
    const later = await Promise.all([infer(1), infer(2), infer(1)])
    expect(later.map((r) => r.status)).toEqual([200, 200, 200])
    expect(model.workers).toHaveLength(1)
    expect(model.workers[0]).not.toBe(only)
  })
})
