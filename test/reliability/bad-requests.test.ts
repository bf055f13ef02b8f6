import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KserveGrpcClient } from '../../plugins/shared/v2/grpc-client.ts'
import type { RunningServer } from '../../plugins/server/serve.ts'
import { serveForTest, tempMlp } from '../helpers/served-model.ts'

const mlp = tempMlp(1, 8, 4, 2)
const { dir, path: modelPath } = mlp
let server: RunningServer
beforeAll(async () => {
  server = await serveForTest([{ path: modelPath }], { grpcPort: 0 })
})
afterAll(async () => {
  await server.stop()
  mlp.cleanup()
})

const input = { name: 'input', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] }
async function post(path: string, body: string) {
  const res = await request(`http://127.0.0.1:${server.httpPort}${path}`, { method: 'POST', body })
  return { status: res.statusCode, body: await res.body.json() as { error?: string } }
}

describe('the server answers 4xx for every malformed request', () => {
  it.each([
    ['a body of null', 'null', /the request must be a JSON object with 'inputs', received null/],
    ['a body that is an array', '[1, 2]', /the request must be a JSON object with 'inputs', received an array/],
    ['inputs: [null]', '{"inputs":[null]}', /inputs\[0\] must be an object with name, datatype, shape and data, received null/],
    ['outputs: [null]', JSON.stringify({ inputs: [input], outputs: [null] }), /outputs\[0\] must be an object with a string 'name', received null/],
    ['outputs not an array', JSON.stringify({ inputs: [input], outputs: 'output' }), /'outputs' must be an array, received a string/],
    ['parameters: null', JSON.stringify({ inputs: [input], parameters: null }), /'parameters' must be an object, received null/],
    ['an input given twice', JSON.stringify({ inputs: [input, input] }), /inputs\[1\] \('input'\): input 'input' is given twice/],
    ['inputs[0].parameters: 5', JSON.stringify({ inputs: [{ ...input, parameters: 5 }] }), /inputs\[0\] \('input'\): 'parameters' must be an object/],
    ['datatype __proto__', JSON.stringify({ inputs: [{ ...input, datatype: '__proto__' }] }), /unsupported datatype "__proto__"/],
    ['datatype constructor', JSON.stringify({ inputs: [{ ...input, datatype: 'constructor' }] }), /unsupported datatype "constructor"/],
    ['data nested 200,000 deep', `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":${'['.repeat(200_000)}1${']'.repeat(200_000)}}]}`, /data is nested too deeply; send a flat array/],
    ['a string among FP32 data', JSON.stringify({ inputs: [{ ...input, data: [1, 2, 'x', 4] }] }), /expected numbers in data for FP32, found the string "x"/],
    ['an unknown output', JSON.stringify({ inputs: [input], outputs: [{ name: 'nope' }] }), /unknown output 'nope'; outputs: output/],
  ])('%s: 400 with the field named', async (_what, body, message) => {
    const res = await post('/v2/models/mlp/infer', body)
    expect(res.status).toBe(400)
    expect(res.body.error).toMatch(message)
  })

  it('a malformed percent-encoded model name is a 400, an unknown one a 404', async () => {
    const bad = await post('/v2/models/%E0%A4%A/infer', JSON.stringify({ inputs: [input] }))
    expect(bad).toMatchObject({ status: 400, body: { error: expect.stringMatching(/malformed percent-encoding/) } })
    const unknown = await post('/v2/models/na%20me/infer', JSON.stringify({ inputs: [input] }))
    expect(unknown).toMatchObject({ status: 404, body: { error: expect.stringMatching(/unknown model 'na me'/) } })
  })

  it('a model version it does not serve is a 404 that says which it serves', async () => {
    const res = await post('/v2/models/mlp/versions/2/infer', JSON.stringify({ inputs: [input] }))
    expect(res).toMatchObject({ status: 404, body: { error: expect.stringMatching(/unknown model 'mlp' version '2'; served: mlp: version 1 only/) } })
  })

  it('keeps answering good requests after all of that', async () => {
    const res = await post('/v2/models/mlp/infer', JSON.stringify({ inputs: [input] }))
    expect(res.status).toBe(200)
  })

  it('answers a client that half-closes after writing its request (nc -N)', async () => {
    const { connect } = await import('node:net')
    const body = JSON.stringify({ inputs: [input] })
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.httpPort!, '127.0.0.1', () => {
        socket.end(`POST /v2/models/mlp/infer HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`)
      })
      let received = ''
      socket.on('data', (d: Buffer) => { received += d.toString() })
      socket.on('close', () => resolve(received))
      socket.on('error', reject)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/)
  })

  it('over gRPC, an input given twice is INVALID_ARGUMENT', async () => {
    const client = new KserveGrpcClient(`127.0.0.1:${server.grpcPort}`, 'mlp')
    try {
      const data = Float32Array.from([1, 2, 3, 4])
      const one = { name: 'input', datatype: 'FP32' as const, shape: [1, 4], raw: new Uint8Array(data.buffer), values: data }
      await expect(client.infer(client.prepare([one, one]))).rejects.toThrow(/INVALID_ARGUMENT .*input 'input' is given twice/)
    } finally {
      client.close()
    }
  })

  it('over gRPC, a negative or inexact dimension is INVALID_ARGUMENT naming the shape', async () => {
    const client = new KserveGrpcClient(`127.0.0.1:${server.grpcPort}`, 'mlp')
    try {
      const data = Float32Array.from([1, 2, 3, 4])
      const input = (shape: number[]) => ({ name: 'input', datatype: 'FP32' as const, shape, raw: new Uint8Array(data.buffer), values: data })
      await expect(client.infer(client.prepare([input([-1, 4])]))).rejects.toThrow(/INVALID_ARGUMENT .*inputs\[0\] \('input'\): shape \[-1, 4\] must hold non-negative integers below 2\^53/)
      await expect(client.infer(client.prepare([input([2 ** 53, 4])]))).rejects.toThrow(/INVALID_ARGUMENT .*shape \[9007199254740992, 4\] must hold non-negative integers/)
    } finally {
      client.close()
    }
  })

  it('integers JSON cannot carry exactly are refused, never wrapped', async () => {
    const { fromJson } = await import('../../plugins/shared/v2/datatypes.ts')
    expect(() => fromJson('INT64', [1e30])).toThrow(/INT64 values must be integers from -9007199254740991 to 9007199254740991 in JSON \(send others as binary data\), found 1e\+30/)
    expect(() => fromJson('INT64', [1.5])).toThrow(/must be integers .* found 1\.5/)
    expect(() => fromJson('INT64', ['9223372036854775807'])).toThrow(/expected numbers in data for INT64, found the string/)
    expect(() => fromJson('INT8', [200])).toThrow(/INT8 values must be integers from -128 to 127, found 200/)
    expect(Array.from(fromJson('INT64', [3, -4]) as BigInt64Array)).toEqual([3n, -4n])
  })
})

describe('a request whose values the model rejects', () => {
  const gatherPath = join(dir, 'gather.onnx')
  let batching: RunningServer
  beforeAll(async () => {
    // An embedding lookup: an id past the table is the request's fault, not the server's.
    const { GraphBuilder, DType } = await import('../../plugins/models/index.ts')
    const g = new GraphBuilder('gather', 1)
    const ids = g.input('ids', DType.INT64, ['batch', 3])
    const table = g.constant('table', [10, 2], Float32Array.from({ length: 20 }, (_, i) => i))
    g.node('Gather', [table, ids], { axis: 0 }, ['embedded'])
    g.output('embedded', DType.FLOAT, ['batch', 3, 2])
    writeFileSync(gatherPath, g.build())
    batching = await serveForTest([{ path: gatherPath, name: 'gather' }], {
      grpcPort: 0, batching: { maxBatch: 8, maxQueueDelayUs: 50_000, preferredBatch: [] },
    })
  })
  afterAll(() => batching.stop())

  it('gets a 400 with onnxruntime\'s reason, and does not fail the good requests batched with it', async () => {
    const send = (ids: number[]) => request(`http://127.0.0.1:${batching.httpPort}/v2/models/gather/infer`, {
      method: 'POST', body: JSON.stringify({ inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 3], data: ids }] }),
    }).then(async (r) => ({ status: r.statusCode, body: await r.body.json() as { error?: string; parameters?: { batch_rows: number } } }))
    const [good1, bad, good2] = await Promise.all([send([1, 2, 3]), send([1, 99, 3]), send([4, 5, 6])])
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatch(/the model could not run on this input: .*/)
    expect(good1.status).toBe(200)
    expect(good2.status).toBe(200)
  })

  it('over gRPC, int64 contents reach the model exactly (past 2^53 too), never rounded or wrapped', async () => {
    const grpc = await import('@grpc/grpc-js')
    const { loadKserveService } = await import('../../plugins/shared/v2/service.ts')
    const Service = loadKserveService()
    const client = new Service(`127.0.0.1:${batching.grpcPort}`, grpc.credentials.createInsecure()) as unknown as
      { ModelInfer(req: unknown, cb: (error: Error | null, res: unknown) => void): void; close(): void }
    const infer = (ids: string[]) => new Promise((resolve, reject) => client.ModelInfer({
      model_name: 'gather', inputs: [{ name: 'ids', datatype: 'INT64', shape: [1, 3], contents: { int64_contents: ids } }],
    }, (error, res) => (error ? reject(error) : resolve(res))))
    try {
      await expect(infer(['1', '2', '3'])).resolves.toBeDefined()
      // As a JS number this id would arrive as ...992: the message must name the exact one.
      await expect(infer(['1', '9007199254740993', '3'])).rejects.toThrow(/INVALID_ARGUMENT.*9007199254740993/)
    } finally {
      client.close()
    }
  })

})
