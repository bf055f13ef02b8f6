import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobSignals } from '../helpers/job-signals.ts'
import { sha256 } from '../../core/hash.ts'
import { model } from '../../core/model-ref.ts'
import { createRegistry } from '../../core/plugin.ts'
import { dockerLauncher } from '../../plugins/docker/index.ts'
import { buildFc } from '../../plugins/models/fc.ts'
import { serve, type RunningServer } from '../../plugins/server/serve.ts'
import { REPO_ROOT } from '../helpers/temp-project.ts'

/**
 * No Docker engine runs here. The launcher is tested against a recorded Engine API exchange
 * (fixtures/docker/triton-exchange.json) served on a unix socket; the "container" it reports is
 * a real `inferbench serve` speaking the same KServe v2 protocol as Triton, so the job runs for real.
 */
const dir = mkdtempSync(join(tmpdir(), 'inferbench-docker-'))
const modelPath = join(dir, 'mlp.onnx')
const bytes = buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' })
writeFileSync(modelPath, bytes)
const ID = '4f66ad8a4c3b2f0e9d1c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d'

let server: RunningServer
let engine: http.Server
const socketPath = join(dir, 'docker.sock')
const calls: Array<{ method: string; path: string; body: unknown; repository?: string[] }> = []
beforeAll(async () => {
  server = await serve({ models: [{ path: modelPath, name: 'mlp' }], host: '127.0.0.1', httpPort: 0, grpcPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'triton-stand-in' })
  const recorded = readFileSync(join(REPO_ROOT, 'fixtures/docker/triton-exchange.json'), 'utf8')
    .replaceAll('{{ID}}', ID).replaceAll('{{HTTP_PORT}}', String(server.httpPort)).replaceAll('{{GRPC_PORT}}', String(server.grpcPort))
  const exchange = (JSON.parse(recorded) as { exchange: Array<{ request: { method: string; path: string }; response: { status: number; headers?: Record<string, string>; body?: unknown } }> }).exchange
  let next = 0
  engine = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (d: Buffer) => { raw += d.toString() })
    req.on('end', () => {
      const path = (req.url ?? '').replace(/^\/v[\d.]+/, '')
      const body = raw ? JSON.parse(raw) as { HostConfig?: { Binds?: string[] } } : undefined
      const bind = body?.HostConfig?.Binds?.[0]?.split(':')[0]
      calls.push({ method: req.method!, path, body, ...(bind ? { repository: listTree(bind) } : {}) })
      const step = exchange[next]
      if (!step || step.request.method !== req.method || !new RegExp(step.request.path).test(path)) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ message: `unexpected ${req.method} ${path}; expected ${step ? `${step.request.method} ${step.request.path}` : 'nothing more'}` }))
        return
      }
      next++
      const text = step.response.body === undefined ? '' : typeof step.response.body === 'string' ? step.response.body : JSON.stringify(step.response.body)
      res.writeHead(step.response.status, { 'content-type': 'application/json', ...step.response.headers })
      res.end(text)
    })
  })
  await new Promise<void>((resolve) => engine.listen(socketPath, resolve))
})
afterAll(async () => {
  await server.stop()
  await new Promise<void>((r) => engine.close(() => r()))
  rmSync(dir, { recursive: true, force: true })
})

function listTree(root: string): string[] {
  if (!existsSync(root)) return []
  return readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort()
}

const backend = createRegistry([dockerLauncher()]).backend('docker')
const ctx = (params: Record<string, string | number | boolean>) => ({
  ...jobSignals(), jobId: 'dockerjob', batch: 2, cacheDir: dir, params, model: { name: 'mlp', path: modelPath, bytes, sha256: sha256(bytes), ref: model.file(modelPath) },
})

describe('docker launcher', () => {
  it('creates, starts, inspects, benchmarks, then stops and removes a Triton container (recorded Engine API)', async () => {
    const b = await backend(ctx({ image: 'triton', socketPath, maxBatch: 8 }))
    await b.infer()
    expect(b.coldStart).toMatchObject({ containerCreateMs: expect.any(Number), startToReadyMs: expect.any(Number) })
    expect(b.info?.container).toMatchObject({ id: ID, image: 'nvcr.io/nvidia/tritonserver:24.08-py3', port: server.httpPort })
    // The docker probe samples this container through the same engine.
    expect(b.containers).toEqual([{ id: ID, socketPath }])
    await b.close()
    expect(calls.map((c) => `${c.method} ${c.path.split('?')[0]}`)).toEqual([
      'GET /_ping', 'POST /containers/create', `POST /containers/${ID}/start`, `GET /containers/${ID}/json`,
      `POST /containers/${ID}/stop`, `DELETE /containers/${ID}`,
    ])
    const create = calls[1]!
    expect(create.body).toMatchObject({
      Image: 'nvcr.io/nvidia/tritonserver:24.08-py3', Cmd: ['tritonserver', '--model-repository=/models'],
      ExposedPorts: { '8000/tcp': {}, '8001/tcp': {} },
      HostConfig: { Binds: [expect.stringMatching(/:\/models:ro$/)], PortBindings: { '8000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    })
    expect(create.repository).toEqual(['mlp/1/model.onnx', 'mlp/config.pbtxt'])
    const hostDir = (create.body as { HostConfig: { Binds: string[] } }).HostConfig.Binds[0]!.split(':')[0]!
    expect(existsSync(hostDir)).toBe(false)
  })

  it('says which socket it tried when no engine is reachable', async () => {
    await expect(backend(ctx({ image: 'triton', socketPath: join(dir, 'no-engine.sock') })))
      .rejects.toThrow(new RegExp(`no Docker engine reachable at unix://${join(dir, 'no-engine.sock').replaceAll('/', '\\/')} \\(ENOENT\\)`))
  })

  it('asks for a SavedModel when the image is TF Serving', async () => {
    calls.length = 0
    await expect(backend(ctx({ image: 'tfserving', socketPath }))).rejects.toThrow(/TF Serving serves SavedModels, not ONNX; set savedModelDir/)
  })
})
