import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KserveGrpcClient } from '../../../plugins/shared/v2/grpc-client.ts'
import { buildFc } from '../../../plugins/models/fc.ts'
import { serve, type RunningServer } from '../../../plugins/server/serve.ts'
import { CLI } from '../../helpers/temp-project.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-serve-'))
const modelPath = join(dir, 'mlp.onnx')
writeFileSync(modelPath, buildFc({ layers: 2, width: 16, inputDim: 4, outputDim: 3, activation: 'relu' }))
const rows = (n: number, offset = 0) => Float32Array.from({ length: n * 4 }, (_, i) => ((i + offset) % 7) / 7)

let plain: RunningServer
let batching: RunningServer
let reference: ort.InferenceSession
beforeAll(async () => {
  plain = await serve({ models: [{ path: modelPath }], host: '127.0.0.1', httpPort: 0, grpcPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'test' })
  batching = await serve({
    models: [{ path: modelPath, name: 'batched' }], host: '127.0.0.1', httpPort: 0, grpcPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'test',
    batching: { maxBatch: 16, maxQueueDelayUs: 20_000, preferredBatch: [] },
  })
  reference = await ort.InferenceSession.create(modelPath)
})
afterAll(async () => {
  await plain.stop()
  await batching.stop()
  await reference.release()
  rmSync(dir, { recursive: true, force: true })
})

async function expected(data: Float32Array, n: number): Promise<number[]> {
  const out = await reference.run({ input: new ort.Tensor('float32', data, [n, 4]) })
  return Array.from(out.output!.data as Float32Array)
}

const url = (s: RunningServer, path: string) => `http://127.0.0.1:${s.httpPort}${path}`
async function post(s: RunningServer, path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await request(url(s, path), { method: 'POST', body, headers })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}

describe('inferbench serve over HTTP (KServe v2)', () => {
  it('answers health, server and model metadata', async () => {
    expect((await request(url(plain, '/v2/health/live'))).statusCode).toBe(200)
    expect((await request(url(plain, '/v2/health/ready'))).statusCode).toBe(200)
    expect(await (await request(url(plain, '/v2'))).body.json()).toMatchObject({ name: 'inferbench', extensions: expect.arrayContaining(['binary_tensor_data']) })
    expect(await (await request(url(plain, '/v2/models/mlp'))).body.json()).toEqual({
      name: 'mlp', versions: ['1'], platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'output', datatype: 'FP32', shape: [-1, 3] }],
    })
    expect((await request(url(plain, '/v2/models/mlp/versions/1/ready'))).statusCode).toBe(200)
  })

  it('infers with JSON tensors: the same numbers as in-process onnxruntime', async () => {
    const data = rows(2)
    const res = await post(plain, '/v2/models/mlp/infer', JSON.stringify({ id: 'r1', inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: Array.from(data) }] }))
    expect(res.status).toBe(200)
    const body = JSON.parse(res.body.toString())
    expect(body).toMatchObject({ model_name: 'mlp', id: 'r1', outputs: [{ name: 'output', datatype: 'FP32', shape: [2, 3] }] })
    expect(body.outputs[0].data).toEqual(await expected(data, 2))
    expect(body.parameters.compute_us).toBeGreaterThanOrEqual(0)
  })

  it('infers with binary tensors both ways (nested JSON data accepted too)', async () => {
    const data = rows(3, 1)
    const header = Buffer.from(JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 4], parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'output', parameters: { binary_data: true } }],
    }))
    const res = await post(plain, '/v2/models/mlp/infer', Buffer.concat([header, Buffer.from(data.buffer)]), { 'inference-header-content-length': String(header.length) })
    expect(res.status).toBe(200)
    const jsonLength = Number(res.headers['inference-header-content-length'])
    const meta = JSON.parse(res.body.subarray(0, jsonLength).toString())
    expect(meta.outputs[0].parameters.binary_data_size).toBe(3 * 3 * 4)
    const tail = res.body.subarray(jsonLength)
    const out = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.byteLength))
    expect(Array.from(out)).toEqual(await expected(data, 3))
    const nested = await post(plain, '/v2/models/mlp/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [[0.1, 0.2, 0.3, 0.4]] }] }))
    expect(nested.status).toBe(200)
  })

  it('answers bad requests with the protocol error and keeps serving', async () => {
    const infer = (body: string | Buffer, headers: Record<string, string> = {}, model = 'mlp') => post(plain, `/v2/models/${model}/infer`, body, headers)
    const cases: Array<[Promise<{ status: number; body: Buffer }>, number, RegExp]> = [
      [infer(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }), {}, 'nope'), 404, /unknown model 'nope'/],
      [infer(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] })), 400, /shape \[1,5\] does not match the model's \[-1,4\]/],
      [infer(JSON.stringify({ inputs: [{ name: 'input', datatype: 'INT64', shape: [1, 4], data: [1, 2, 3, 4] }] })), 400, /datatype INT64 does not match the model's FP32/],
      [infer(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4] }] })), 400, /4 values for shape \[2,4\], expected 8/],
      [infer('{not json'), 400, /not valid JSON/],
      [infer(Buffer.concat([Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: 32 } }] })), Buffer.alloc(10)]),
        { 'inference-header-content-length': String(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: 32 } }] }).length) }), 400, /binary payload truncated/],
      [infer(Buffer.alloc(2 << 20, 32)), 413, /exceeds the limit/],
    ]
    for (const [pending, status, message] of cases) {
      const res = await pending
      expect(res.status, res.body.toString()).toBe(status)
      expect(JSON.parse(res.body.toString()).error).toMatch(message)
    }
    const stillUp = await post(plain, '/v2/models/mlp/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }))
    expect(stillUp.status).toBe(200)
    expect((await request(url(plain, '/v2/models/nope'))).statusCode).toBe(404)
  })

  it('dynamic batching merges concurrent requests and returns each caller its own rows', async () => {
    const before = await (await request(url(batching, '/v2/models/batched/stats'))).body.json() as { model_stats: Array<{ execution_count: number; inference_count: number }> }
    const inputs = Array.from({ length: 8 }, (_, i) => ({ n: 1 + (i % 3), data: rows(1 + (i % 3), i * 5) }))
    const answers = await Promise.all(inputs.map(({ n, data }) =>
      post(batching, '/v2/models/batched/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [n, 4], data: Array.from(data) }] }))))
    for (const [i, res] of answers.entries()) {
      const body = JSON.parse(res.body.toString())
      expect(body.outputs[0].shape).toEqual([inputs[i]!.n, 3])
      expect(body.outputs[0].data).toEqual(await expected(inputs[i]!.data, inputs[i]!.n))
    }
    const stats = await (await request(url(batching, '/v2/models/batched/stats'))).body.json() as { model_stats: Array<{ execution_count: number; inference_count: number; batch_stats: Array<{ batch_size: number }> }> }
    const executions = stats.model_stats[0]!.execution_count - before.model_stats[0]!.execution_count
    const rowsServed = stats.model_stats[0]!.inference_count - before.model_stats[0]!.inference_count
    expect(rowsServed).toBe(inputs.reduce((s, x) => s + x.n, 0))
    expect(executions).toBeLessThan(inputs.length)
    expect(Math.max(...stats.model_stats[0]!.batch_stats.map((b) => b.batch_size))).toBeGreaterThan(3)
    expect(Math.max(...answers.map((a) => JSON.parse(a.body.toString()).parameters.batch_rows))).toBeGreaterThan(3)
  })

  it('exposes Prometheus metrics that agree with the statistics extension', async () => {
    // One answered and one refused request of its own, whatever ran before.
    expect((await post(plain, '/v2/models/mlp/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }))).status).toBe(200)
    expect((await post(plain, '/v2/models/mlp/infer', JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 5], data: [1, 2, 3, 4, 5] }] }))).status).toBe(400)
    const text = await (await request(url(plain, '/metrics'))).body.text()
    expect(text).toMatch(/inferbench_inference_request_success\{model="mlp"\} [1-9]/)
    expect(text).toMatch(/inferbench_inference_request_failure\{model="mlp"\} [1-9]/)
    // Four requests inside one 20 ms batching window run as one batch of more than 2 rows. The
    // histogram and counters are read from the statistics when scraped: both views must agree exactly.
    const one = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [0.1, 0.2, 0.3, 0.4] }] })
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(batching, '/v2/models/batched/infer', one)))
    expect(answers.map((a) => JSON.parse(a.body.toString()).parameters.batch_rows)).toContain(4)
    const [metricsText, stats] = await Promise.all([
      request(url(batching, '/metrics')).then((r) => r.body.text()),
      request(url(batching, '/v2/models/batched/stats')).then((r) => r.body.json()) as Promise<{ model_stats: Array<{ inference_count: number; inference_stats: { success: { count: number }; queue: { ns: number } } }> }>,
    ])
    const families = parsePrometheusTextFormat(metricsText) as PrometheusFamily[]
    const only = (name: string) => families.find((f) => f.name === name)!.metrics.find((m) => m.labels?.model === 'batched')!
    const model = stats.model_stats[0]!
    expect(Number(only('inferbench_inference_request_success').value)).toBe(model.inference_stats.success.count)
    expect(Number(only('inferbench_inference_count').value)).toBe(model.inference_count)
    expect(Number(only('inferbench_inference_queue_duration_us').value)).toBeCloseTo(model.inference_stats.queue.ns / 1000, 3)
    // The parser drops a histogram's labels, count and sum: its lines are read directly.
    const line = (series: string) => Number(metricsText.split('\n').find((l) => l.startsWith(`inferbench_batch_rows_${series} `))?.split(' ')[1])
    const count = line('count{model="batched"}')
    expect(count).toBe(model.inference_stats.success.count)
    expect(line('bucket{le="+Inf",model="batched"}')).toBe(count)
    // Some requests ran in a batch of more than 2 rows: fewer are at or below 2 than in all.
    expect(line('bucket{le="2",model="batched"}')).toBeLessThan(count)
    expect(line('sum{model="batched"}')).toBeGreaterThan(count)
  })
})

describe('inferbench serve over gRPC (inference.GRPCInferenceService)', () => {
  it('answers liveness, metadata and inference with the same numbers as in-process onnxruntime', async () => {
    const client = new KserveGrpcClient(`127.0.0.1:${plain.grpcPort}`, 'mlp')
    try {
      expect(await client.call('ServerLive', {})).toEqual({ live: true })
      expect(await client.call('ServerReady', {})).toEqual({ ready: true })
      expect(await client.call('ModelReady', { name: 'mlp', version: '' })).toEqual({ ready: true })
      expect(await client.call('ServerMetadata', {})).toMatchObject({ name: 'inferbench', version: 'test' })
      expect(await client.call('ModelMetadata', { name: 'mlp', version: '' })).toMatchObject({
        name: 'mlp', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      })
      const data = rows(2, 3)
      const request = client.prepare([{ name: 'input', datatype: 'FP32', shape: [2, 4], raw: new Uint8Array(data.buffer), values: data }])
      const response = await client.call<{ outputs: Array<{ shape: number[] }>; raw_output_contents: Buffer[] }>('ModelInfer', request)
      expect(response.outputs[0]!.shape).toEqual([2, 3])
      const raw = response.raw_output_contents[0]!
      expect(Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)))).toEqual(await expected(data, 2))
      const answer = await client.infer(request)
      expect(answer.serverTimings?.computeUs).toBeGreaterThan(0)
    } finally {
      client.close()
    }
  })

  it('answers NOT_FOUND and INVALID_ARGUMENT and keeps serving', async () => {
    const unknown = new KserveGrpcClient(`127.0.0.1:${plain.grpcPort}`, 'nope')
    const client = new KserveGrpcClient(`127.0.0.1:${plain.grpcPort}`, 'mlp')
    try {
      const data = rows(1)
      const good = { name: 'input', datatype: 'FP32' as const, shape: [1, 4], raw: new Uint8Array(data.buffer), values: data }
      await expect(unknown.infer(unknown.prepare([good]))).rejects.toThrow(/NOT_FOUND unknown model 'nope'/)
      await expect(client.infer(client.prepare([{ ...good, shape: [1, 3] }]))).rejects.toThrow(/INVALID_ARGUMENT .*16 raw bytes for shape \[1,3\]/)
      await expect(client.infer(client.prepare([{ ...good, datatype: 'INT32' }]))).rejects.toThrow(/INVALID_ARGUMENT .*datatype INT32 does not match/)
      await expect(client.call('ModelMetadata', { name: 'nope', version: '' })).rejects.toThrow(/NOT_FOUND/)
      expect((await client.infer(client.prepare([good]))).serverTimings).toBeDefined()
    } finally {
      unknown.close()
      client.close()
    }
  })
})

describe('inferbench serve as a process', () => {
  it('drains in-flight requests on SIGTERM, then exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--model', `${modelPath}:slow`, '--http-port', '0', '--grpc-port', 'off', '--max-batch', '64', '--max-queue-delay', '1500ms'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const ready = await new Promise<{ http: number }>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'))
        if (line) resolve(JSON.parse(line))
      })
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)))
    })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    // Three requests wait in the 1.5 s batching window when SIGTERM arrives; each must still be answered.
    const pending = [1, 2, 3].map(() => request(`http://127.0.0.1:${ready.http}/v2/models/slow/infer`, {
      method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    }).then(async (r) => ({ status: r.statusCode, body: await r.body.json() as { outputs: unknown[] } })))
    await new Promise((r) => setTimeout(r, 500))
    child.kill('SIGTERM')
    const signalled = performance.now()
    const answers = await Promise.all(pending)
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200])
    // Draining sends the queued batch at once rather than waiting out the rest of its window.
    expect(performance.now() - signalled).toBeLessThan(900)
    expect(await exited).toBe(0)
  })
})

describe('raw requests: one BYTES input, pre-processed by the server (--preprocess)', () => {
  let raw: RunningServer
  beforeAll(async () => {
    // A pre-processor of the test's own: each element is text "a,b,c,d", one row of the model's input.
    raw = await serve({
      models: [{ path: modelPath }], host: '127.0.0.1', httpPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'test',
      preprocess: async (model) => async (elements) => ({
        [model.inputs[0]!]: { type: 'float32', dims: [elements.length, 4], data: Float32Array.from(elements.flatMap((e) => Buffer.from(e).toString().split(',').map(Number))) },
      }),
    })
  })
  afterAll(() => raw.stop())

  const bytesRequest = (elements: string[], claimed?: number, timestamps = true) => {
    const payload = Buffer.concat(elements.map((e) => { const b = Buffer.from(e); const n = Buffer.alloc(4); n.writeUInt32LE(claimed ?? b.length); return Buffer.concat([n, b]) }))
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'raw', datatype: 'BYTES', shape: [elements.length], parameters: { binary_data_size: payload.length } }], parameters: { binary_data_output: true, timestamps } }))
    return { body: Buffer.concat([header, payload]), headers: { 'inference-header-content-length': String(header.length) } }
  }

  it('decodes length-prefixed elements, runs the pre-processor, and times it on the server\'s clock', async () => {
    const before = Number(process.hrtime.bigint() / 1000n)
    const { body, headers } = bytesRequest(['0,0.5,1,0.25', '1,1,0,0'])
    const answer = await post(raw, '/v2/models/mlp/infer', body, headers)
    const after = Number(process.hrtime.bigint() / 1000n)
    expect(answer.status, answer.body.toString()).toBe(200)
    const length = Number(answer.headers['inference-header-content-length'])
    const meta = JSON.parse(answer.body.subarray(0, length).toString())
    const out = new Float32Array(answer.body.buffer.slice(answer.body.byteOffset + length, answer.body.byteOffset + answer.body.length))
    const want = await expected(Float32Array.from([0, 0.5, 1, 0.25, 1, 1, 0, 0]), 2)
    Array.from(out).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5))
    const p = meta.parameters
    expect(p.preprocess_us).toBeGreaterThanOrEqual(0)
    // The server stamps with the monotonic clock this process reads too.
    expect(p.received_us).toBeGreaterThanOrEqual(before)
    expect(p.sent_us).toBeGreaterThanOrEqual(p.received_us)
    expect(p.sent_us).toBeLessThanOrEqual(after)
    // Unasked, an answer carries no clock readings.
    const plainRequest = bytesRequest(['1,1,1,1'], undefined, false)
    const plainAnswer = await post(raw, '/v2/models/mlp/infer', plainRequest.body, plainRequest.headers)
    const plainMeta = JSON.parse(plainAnswer.body.subarray(0, Number(plainAnswer.headers['inference-header-content-length'])).toString())
    expect(plainMeta.parameters).not.toHaveProperty('received_us')
    expect(plainMeta.parameters).toHaveProperty('preprocess_us')
  })

  it('answers 400 for raw items the server cannot take, naming why', async () => {
    const { body, headers } = bytesRequest(['1,2,3,4'])
    const refused = await post(plain, '/v2/models/mlp/infer', body, headers)
    expect(refused.status).toBe(400)
    expect(refused.body.toString()).toMatch(/BYTES \(raw items\): this server pre-processes nothing; start it with --preprocess/)
    const lying = bytesRequest(['1,2,3,4'], 400)
    const bad = await post(raw, '/v2/models/mlp/infer', lying.body, lying.headers)
    expect(bad.status).toBe(400)
    expect(bad.body.toString()).toMatch(/BYTES element 0 claims 400 bytes/)
  })
})
