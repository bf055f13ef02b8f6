import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'
import { afterAll, describe, expect, it } from 'vitest'
import { jobSignals } from '../helpers/job-signals.ts'
import { sha256 } from '../../core/hash.ts'
import { model } from '../../core/model-ref.ts'
import { resolveModel } from '../../core/model-resolver.ts'
import { createRegistry, type ResolvedModel } from '../../core/plugin.ts'
import { DType, GraphBuilder, buildFc, models } from '../../plugins/models/index.ts'
import { onnxruntime } from '../../plugins/onnxruntime/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-ort-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const registry = createRegistry([onnxruntime({ intraOpThreads: 1 }), models()])
const backend = registry.backend('onnxruntime')

function fileModel(name: string, bytes: Uint8Array): ResolvedModel {
  const path = join(dir, `${name}.onnx`)
  writeFileSync(path, bytes)
  return { name, path, bytes, sha256: sha256(bytes), ref: model.file(path) }
}

describe('onnxruntime backend', () => {
  it('runs a real session on a tiny generated MLP and reports what it synthesised', async () => {
    const m = fileModel('tiny', buildFc({ layers: 2, width: 16, inputDim: 8, outputDim: 3, activation: 'gelu' }))
    const b = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 4, params: {}, cacheDir: dir })
    await b.infer()
    expect(b.versions?.['onnxruntime-node']).toBe(ort.env.versions.node)
    expect(b.info?.inputs).toEqual([{ name: 'input', type: 'float32', declared: ['batch', 8], shape: [4, 8] }])
    await b.close()
    // The generated graph computes what it says: check one output against a direct session.
    const session = await ort.InferenceSession.create(m.path)
    const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(8 * 2).fill(0.5), [2, 8]) })
    expect(out.output!.dims).toEqual([2, 3])
    const data = out.output!.data as Float32Array
    expect(Array.from(data.slice(0, 3))).toEqual(Array.from(data.slice(3, 6)))
    await session.release()
  })

  it('runs one instance on the main thread (one closed-loop client, or an open loop), several clients or instances in worker threads', async () => {
    const m = fileModel('threads', buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
    const single = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: {}, cacheDir: dir, load: { open: false, concurrency: 1 } })
    expect(single.info?.thread).toBe('main')
    expect(single.blocksCaller).toBe(true)
    await single.close()
    const openSingle = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: {}, cacheDir: dir, load: { open: true, concurrency: 64 } })
    expect(openSingle.info?.thread).toBe('main')
    // Its intra-op threads sleep between requests unless the user asked for spinning.
    expect(openSingle.info?.sessionOptions).toMatchObject({ extra: { session: { intra_op: { allow_spinning: '0' } } } })
    expect(single.info?.sessionOptions).not.toHaveProperty('extra')
    await openSingle.close()
    const clients = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: {}, cacheDir: dir, load: { open: false, concurrency: 4 } })
    expect(clients.info?.thread).toBe('worker')
    expect(clients.blocksCaller).toBeUndefined()
    await clients.close()
    const open = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 2, params: { instances: 2 }, cacheDir: dir, load: { open: true, concurrency: 64 } })
    expect(open.info).toMatchObject({ thread: 'worker', instances: 2, inputs: [{ name: 'input', shape: [2, 4] }] })
    await Promise.all(Array.from({ length: 10 }, () => open.infer()))
    await open.close()
    const broken = fileModel('broken-for-workers', new TextEncoder().encode('garbage'))
    await expect(backend({ ...jobSignals(), jobId: 'j', model: broken, batch: 1, params: { thread: 'worker' }, cacheDir: dir }))
      .rejects.toMatchObject({ code: 'INFERBENCH_MODEL_UNLOADABLE' })
  })

  it('refuses a batch sweep on a fixed-batch model with a clear error', async () => {
    const g = new GraphBuilder('fixed', 1)
    g.input('x', DType.FLOAT, [1, 4])
    g.node('Relu', ['x'], {}, ['y'])
    g.output('y', DType.FLOAT, [1, 4])
    const m = fileModel('fixed', g.build())
    await expect(backend({ ...jobSignals(), jobId: 'j', model: m, batch: 8, params: {}, cacheDir: dir }))
      .rejects.toMatchObject({ code: 'INFERBENCH_BATCH_UNSUPPORTED', message: expect.stringMatching(/fixed batch dimension of 1 .*cannot run batch 8/) })
    const ok = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: {}, cacheDir: dir })
    await ok.infer()
    await ok.close()
  })

  it('binds other symbolic dims from job parameters, synthesises int64 inputs, and names an unbound dim', async () => {
    const g = new GraphBuilder('tokens', 1)
    g.input('ids', DType.INT64, ['batch', 'seqLen'])
    const table = g.weight('emb', [2, 4], 1)
    g.node('Gather', [table, 'ids'], {}, ['out'])
    g.output('out', DType.FLOAT, ['batch', 'seqLen', 4])
    const m = fileModel('tokens', g.build())
    const b = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 2, params: { seqLen: 16 }, cacheDir: dir })
    await b.infer()
    expect((b.info?.inputs as Array<{ shape: number[] }>)[0]!.shape).toEqual([2, 16])
    await b.close()
    await expect(backend({ ...jobSignals(), jobId: 'j', model: m, batch: 2, params: {}, cacheDir: dir }))
      .rejects.toMatchObject({ code: 'INFERBENCH_INPUT_UNSYNTHESISABLE', message: expect.stringMatching(/'seqLen'.*add seqLen: <size>/) })
  })

  it('names the file when onnxruntime cannot load it', async () => {
    const m = fileModel('garbage', new TextEncoder().encode('not an onnx model'))
    await expect(backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: {}, cacheDir: dir }))
      .rejects.toMatchObject({ code: 'INFERBENCH_MODEL_UNLOADABLE', message: expect.stringContaining(m.path) })
  })

  it('takes session options from matrix parameters and rejects bad ones', async () => {
    const m = fileModel('opts', buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
    const b = await backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: { intraOpThreads: 2, graphOptimization: 'basic', allowSpinning: false }, cacheDir: dir })
    expect(b.info?.sessionOptions).toEqual({ intraOpNumThreads: 2, graphOptimizationLevel: 'basic', extra: { session: { intra_op: { allow_spinning: '0' } } } })
    await b.infer()
    await b.close()
    await expect(backend({ ...jobSignals(), jobId: 'j', model: m, batch: 1, params: { graphOptimization: 'max' }, cacheDir: dir }))
      .rejects.toThrow(/graphOptimization/)
  })
})

describe('generated model cache', () => {
  it('is deterministic, reuses the cached file, and regenerates a corrupt one', async () => {
    const ref = model.generate('fc', { layers: 1, width: 8, inputDim: 4 })
    const a = await resolveModel(ref, registry, { cacheDir: dir, repositoryDir: join(dir, 'repo') })
    const b = await resolveModel(ref, registry, { cacheDir: dir, repositoryDir: join(dir, 'repo') })
    expect(b.path).toBe(a.path)
    expect(b.sha256).toBe(a.sha256)
    expect(sha256(buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 10, activation: 'relu' }))).toBe(a.sha256)
    writeFileSync(a.path, 'corrupted')
    const c = await resolveModel(ref, registry, { cacheDir: dir, repositoryDir: join(dir, 'repo') })
    expect(c.sha256).toBe(a.sha256)
  })

  it('names the bad hyper-parameter', async () => {
    await expect(resolveModel(model.generate('fc', { layers: 0 }), registry, { cacheDir: dir, repositoryDir: join(dir, 'repo') })).rejects.toThrow(/model 'fc': layers: Too small/)
    await expect(resolveModel(model.generate('fc', { depth: 3 }), registry, { cacheDir: dir, repositoryDir: join(dir, 'repo') })).rejects.toThrow(/depth: unknown option/)
    await expect(resolveModel(model.generate('nope'), registry, { cacheDir: dir, repositoryDir: join(dir, 'repo') })).rejects.toThrow(/unknown model generator 'nope'; registered: fc, cnn, lstm, transformer, resnet18/)
  })
})
