import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { sha256 } from '../../core/hash.ts'
import { model } from '../../core/model-ref.ts'
import { createRegistry, type ResolvedModel } from '../../core/plugin.ts'
import { backendConformance, type ConformanceContext, type ConformanceSetup } from '../../core/plugin-testing.ts'
import { httpBackend } from '../../plugins/http/index.ts'
import { kserve } from '../../plugins/kserve/index.ts'
import { buildFc } from '../../plugins/models/fc.ts'
import { onnxruntime } from '../../plugins/onnxruntime/index.ts'
import { serverBackend } from '../../plugins/server/backend.ts'
import type { RunningServer } from '../../plugins/server/serve.ts'
import { tfserving } from '../../plugins/tfserving/index.ts'
import { serveForTest } from '../helpers/served-model.ts'
import { startTfServingTestServer } from '../helpers/tfserving-test-server.ts'

/**
 * The conformance kit (`inferbench/plugin/testing`) over every built-in backend: the same checks
 * a third-party backend runs. Each backend gets a job it can serve and one it cannot.
 */
const dir = mkdtempSync(join(tmpdir(), 'inferbench-conformance-'))
const file = (name: string, bytes: Uint8Array): ResolvedModel => {
  const path = join(dir, `${name}.onnx`)
  writeFileSync(path, bytes)
  return { name, path, bytes, sha256: sha256(bytes), ref: model.file(path) }
}
const mlp = file('mlp', buildFc({ layers: 2, width: 16, inputDim: 8, outputDim: 4, activation: 'relu' }))
const broken = file('broken', new TextEncoder().encode('not an onnx model'))
const job = (params: ConformanceContext['params'], extra: Partial<ConformanceContext> = {}): ConformanceContext =>
  ({ jobId: 'conformance', model: mlp, batch: 2, params, cacheDir: dir, load: { open: false, concurrency: 4 }, ...extra })
// A port nothing listens on: readiness polling waits out its 3 s timeout, unless aborted (the kit allows 1 s).
const CLOSED = 'http://127.0.0.1:9'

let ours: RunningServer
let plainV2: http.Server
let plainV2Url = ''
let tfs: Awaited<ReturnType<typeof startTfServingTestServer>>
let endpoint: http.Server
let endpointUrl = ''

/** A plain KServe v2 HTTP server: health, metadata and infer only (no statistics extension: /stats is 404). */
function startPlainV2(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    req.resume()
    req.on('end', () => {
      if (req.url === '/v2/health/ready') return json(200, {})
      if (req.url === '/v2') return json(200, { name: 'plain-v2', version: '1.0', extensions: [] })
      if (req.url === '/v2/models/mlp') return json(200, { name: 'mlp', platform: 'onnxruntime_onnx' })
      if (req.url === '/v2/models/mlp/infer' && req.method === 'POST') {
        return json(200, { model_name: 'mlp', outputs: [{ name: 'output', datatype: 'FP32', shape: [2, 4], data: new Array(8).fill(0) }] })
      }
      json(404, { error: 'not found' })
    })
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

beforeAll(async () => {
  ours = await serveForTest([{ path: mlp.path, name: 'mlp' }], { grpcPort: 0 })
  plainV2 = await startPlainV2()
  plainV2Url = `http://127.0.0.1:${(plainV2.address() as AddressInfo).port}`
  tfs = await startTfServingTestServer(mlp.path, 'mlp')
  endpoint = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok')) })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/predict`
}, 60_000)
afterAll(async () => {
  await ours.stop()
  plainV2.close()
  await tfs.close()
  endpoint.close()
  rmSync(dir, { recursive: true, force: true })
})

const registry = createRegistry([onnxruntime(), serverBackend(), kserve(), tfserving(), httpBackend()])
const cases: Array<[string, () => ConformanceSetup]> = [
  ['onnxruntime, main thread', () => ({ factory: registry.backend('onnxruntime'), context: job({ thread: 'main' }), failing: job({}, { model: broken }) })],
  ['onnxruntime, 2 worker instances', () => ({ factory: registry.backend('onnxruntime'), context: job({ instances: 2 }), failing: job({ thread: 'worker' }, { model: broken }) })],
  ['server over HTTP', () => ({ factory: registry.backend('server'), context: job({}), failing: job({}, { model: broken }) })],
  ['server over gRPC', () => ({ factory: registry.backend('server'), context: job({ protocol: 'grpc' }), failing: job({ protocol: 'grpc' }, { model: broken }) })],
  ['kserve against inferbench serve (HTTP)', () => ({
    factory: registry.backend('kserve'), context: job({ url: `http://127.0.0.1:${ours?.httpPort}` }), failing: job({ url: CLOSED, readyTimeoutMs: 3000 }),
  })],
  ['kserve against inferbench serve (gRPC)', () => ({
    factory: registry.backend('kserve'), context: job({ url: `grpc://127.0.0.1:${ours?.grpcPort}` }), failing: job({ url: 'grpc://127.0.0.1:9', readyTimeoutMs: 3000 }),
  })],
  ['kserve against a plain v2 server without statistics', () => ({
    factory: registry.backend('kserve'), context: job({ url: plainV2Url, encoding: 'json' }), failing: job({ url: plainV2Url, modelName: 'absent' }),
  })],
  ['tfserving against its stand-in (REST)', () => ({
    factory: registry.backend('tfserving'), context: job({ url: tfs?.restUrl ?? CLOSED }), failing: job({ url: CLOSED, readyTimeoutMs: 3000 }),
  })],
  ['tfserving against its stand-in (gRPC)', () => ({
    factory: registry.backend('tfserving'), context: job({ url: tfs?.grpcUrl ?? CLOSED }), failing: job({ url: 'grpc://127.0.0.1:9', readyTimeoutMs: 3000 }),
  })],
  ['http against a plain endpoint', () => ({
    factory: registry.backend('http'), context: job({ url: endpointUrl }, { model: undefined }), failing: job({ url: 'http://127.0.0.1:9/' }, { model: undefined }),
  })],
]

for (const [name, setup] of cases) {
  describe(`backend conformance: ${name}`, () => {
    // The checks are listed from a setup with placeholder URLs; each runs against the live one.
    for (const check of backendConformance(setup())) {
      it(check.name, async () => {
        const live = backendConformance(setup()).find((c) => c.name === check.name)!
        await live.run()
      }, 30_000)
    }
  })
}
