import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KserveGrpcClient } from '../../plugins/kserve/grpc-client.ts'
import { buildFc } from '../../plugins/models/fc.ts'
import { serve, type RunningServer } from '../../plugins/server/serve.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-badreq-'))
const modelPath = join(dir, 'mlp.onnx')
writeFileSync(modelPath, buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
let server: RunningServer
beforeAll(async () => {
  server = await serve({ models: [{ path: modelPath }], host: '127.0.0.1', httpPort: 0, grpcPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'test' })
})
afterAll(async () => {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
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

  it('keeps answering good requests after all of that', async () => {
    const res = await post('/v2/models/mlp/infer', JSON.stringify({ inputs: [input] }))
    expect(res.status).toBe(200)
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
})
