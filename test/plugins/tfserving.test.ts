import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobSignals } from '../helpers/job-signals.ts'
import { model } from '../../core/model-ref.ts'
import { sha256 } from '../../core/hash.ts'
import { createRegistry } from '../../core/plugin.ts'
import { buildFc } from '../../plugins/models/fc.ts'
import { tfserving } from '../../plugins/tfserving/index.ts'
import { startTfServingTestServer } from '../helpers/tfserving-test-server.ts'

// TF Serving itself cannot run here; see test/helpers/tfserving-test-server.ts for the stand-in.
const dir = mkdtempSync(join(tmpdir(), 'inferbench-tfs-'))
const path = join(dir, 'mlp.onnx')
const bytes = buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' })
writeFileSync(path, bytes)
let server: Awaited<ReturnType<typeof startTfServingTestServer>>
beforeAll(async () => { server = await startTfServingTestServer(path, 'mlp') })
afterAll(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

const backend = createRegistry([tfserving()]).backend('tfserving')
const ctx = (params: Record<string, string | number>) => ({
  ...jobSignals(), jobId: 'tfs', batch: 3, cacheDir: dir, params, model: { name: 'mlp', path, bytes, sha256: sha256(bytes), ref: model.file(path) },
})

describe('tfserving backend', () => {
  for (const [label, params, counter] of [
    ['REST, row format (instances)', { url: '' }, 'row'],
    ['REST, columnar format (inputs)', { url: '', format: 'columnar' }, 'columnar'],
    ['gRPC Predict with tensor_content', { url: 'grpc' }, 'grpc'],
  ] as const) {
    it(label, async () => {
      const url = params.url === 'grpc' ? server.grpcUrl : server.restUrl
      const before = server.seen[counter]
      const b = await backend(ctx({ ...params, url }))
      await b.infer()
      await b.infer()
      await b.close()
      expect(server.seen[counter] - before).toBe(2)
      expect((b.info?.inputs as Array<{ shape: number[] }>)[0]!.shape).toEqual([3, 4])
    })
  }

  it('reports the server error for an unknown model', async () => {
    await expect(backend({ ...ctx({ url: server.restUrl, modelName: 'nope', readyTimeoutMs: 300 }) }))
      .rejects.toThrow(/was not ready within 300 ms \(HTTP 404: .*Servable not found/)
    const grpcBackend = await backend(ctx({ url: server.grpcUrl, modelName: 'nope' }))
    await expect(grpcBackend.infer()).rejects.toThrow(/NOT_FOUND Servable not found/)
    await grpcBackend.close()
  })
})
