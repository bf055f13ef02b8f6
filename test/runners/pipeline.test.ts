import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobReport } from '../../core/report.ts'
import { stagesOf } from '../../runners/pipeline.ts'
import { runBenchmarks } from '../../runners/node-api.ts'
import { TEST_CACHE_DIR, runCli, tempProject } from '../helpers/temp-project.ts'

type Measured = Extract<JobReport, { status: 'passed' | 'failed' }>

describe('pipeline: request data, pre/post-processing and the per-stage breakdown', () => {
  const project = tempProject({
    'inferbench.config.ts': `import { defineConfig, definePlugin } from 'inferbench'
// A third-party post-processor: counts the rows of logits it is handed.
const counter = definePlugin({ name: 'row-counter', processors: { countRows: {
  stage: 'post', check: () => {},
  create: (_options, model) => (outputs) => { const g = globalThis as any; g.__rows = (g.__rows ?? 0) + outputs[model.outputs[0]].dims[0] },
} } })
export default defineConfig({ cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, plugins: [counter], reporters: ['json'], outputFile: 'report.json',
  measurement: { minDuration: '50ms', minRequests: 10 } })
`,
    'tensors.jsonl': [
      JSON.stringify({ tensors: { input: { dims: [8], data: [1, 2, 3, 4, 5, 6, 7, 8] } } }),
      JSON.stringify({ tensors: { input: { dims: [4], data: [1, 2, 3, 4] } } }),
      JSON.stringify({ tensors: { x: { dims: [8], data: [1, 2, 3, 4, 5, 6, 7, 8] } } }),
      JSON.stringify({ tensors: { input: { data: [8, 7, 6, 5, 4, 3, 2, 1] } } }),
    ].join('\n'),
    'tensors.bench.ts': `import { bench, model, workload } from 'inferbench'
const load = { model: model.generate('fc', { layers: 1, width: 8, inputDim: 8 }), workload: workload.closed({ duration: '100ms' }), warmup: { requests: 2 } }
bench('tensors', { ...load, batch: 2, pipeline: { data: 'tensors' } })
bench('tensors skipped', { ...load, batch: 2, pipeline: { data: 'tensors', onBadItem: 'skip' } })
`,
    'pipeline.bench.ts': `import { bench, describe, model, processor, workload } from 'inferbench'
const image = processor('image', { size: 32 })
const load = { workload: workload.closed({ requests: 24 }), warmup: { requests: 3 } }
describe('images', { model: model.generate('cnn', { layers: 1, channels: 8, imageSize: 32 }) }, () => {
  // No size: the image processor follows the model's 32×32 input.
  bench('client', { ...load, backend: ['onnxruntime', 'server'], batch: 2, pipeline: { data: 'images', pre: processor('image'), post: processor('countRows') } })
  bench('too big', { ...load, pipeline: { data: 'images', pre: processor('image', { size: 64 }) } })
  bench('on server', { ...load, backend: 'server', placement: 'server', pipeline: { data: 'images', pre: image, post: processor('topK', { k: 3 }) } })
  bench('bad data', { ...load, pipeline: { data: 'mixed', pre: image } })
  bench('bad data skipped', { ...load, pipeline: { data: 'mixed', pre: image, onBadItem: 'skip' } })
})
`,
  })
  afterAll(project.cleanup)

  it('registers a folder with inferbench data add, naming the bad items by path', async () => {
    mkdirSync(join(project.dir, 'mixed'))
    writeFileSync(join(project.dir, 'mixed/not-an-image.jpg'), 'plain text')
    writeFileSync(join(project.dir, 'mixed/empty.png'), '')
    const { syntheticImages } = await import('../../plugins/processors/data-sets.ts')
    const [one] = await syntheticImages({ cacheDir: TEST_CACHE_DIR })
    writeFileSync(join(project.dir, 'mixed/photo.jpg'), one!.bytes!)
    const added = await runCli(['data', 'add', 'mixed', '--name', 'mixed'], project.dir)
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toContain("data set 'mixed': 2 items")
    expect(added.stdout).toContain('mixed/empty.png: empty file')
    const listed = await runCli(['data', 'ls'], project.dir)
    expect(listed.stdout).toMatch(/images\s+built-in/)
    expect(listed.stdout).toMatch(/mixed\s+files\s+2/)
  })

  it('runs each stage, reports jobs[].stages that add up to the latency, and screens bad items', async () => {
    const g = globalThis as { __rows?: number }
    g.__rows = 0
    const report = await runBenchmarks({ cwd: project.dir, filters: ['pipeline.bench.ts'] })
    const byName = (name: string, backend?: string) => report.jobs.find((j) => j.name === name && (!backend || j.params.backend === backend))!
    for (const job of [byName('client', 'onnxruntime'), byName('client', 'server'), byName('on server')]) {
      expect(job.status, JSON.stringify((job as { error?: unknown }).error)).toMatch(/passed|failed/)
      const m = job as Measured
      expect(m.requests.ok).toBe(24)
      // Stages tile the request: their means add up to the mean latency (closed loop).
      expect(m.stageSum!.sumOfMeansMs / m.stageSum!.latencyMeanMs).toBeGreaterThan(0.95)
      expect(m.stageSum!.sumOfMeansMs / m.stageSum!.latencyMeanMs).toBeLessThan(1.05)
      expect(m.stages!.preprocess!.mean).toBeGreaterThan(0.05) // decoding and resizing an image takes real time
    }
    const inProcess = byName('client', 'onnxruntime') as Measured
    expect(Object.keys(inProcess.stages!)).toEqual(['preprocess', 'inference', 'postprocess'])
    // Through our server: the wire time split by the server's clock, plus its own timings.
    const server = byName('client', 'server') as Measured
    expect(Object.keys(server.stages!)).toEqual(['preprocess', 'request', 'queue', 'inference', 'server', 'response', 'postprocess'])
    expect(server.stages!.request!.mean).toBeGreaterThan(0)
    expect(server.stages!.response!.mean).toBeGreaterThan(0)
    // The post-processor saw the rows of every answer: 2 per request, the measured ones and more
    // (cold start, warm-up, and a second measurement when the first was unstable).
    expect(g.__rows! % 2).toBe(0)
    expect(g.__rows).toBeGreaterThanOrEqual(2 * (24 + 24 + 2 * 3 + 2))
    // Placement 'server': the server decoded the raw bytes and says how long it took.
    const onServer = byName('on server') as Measured
    expect(onServer.stages!.preprocess!.mean).toBeGreaterThan(0.05)
    expect(onServer.backendInfo?.pipeline).toMatchObject({ placement: 'server', items: 32 })

    const tooBig = byName('too big') as { status: string; error: { message: string; code: string } }
    expect(tooBig.status).toBe('errored')
    expect(tooBig.error.message).toMatch(/pipeline: pre: image: size 64 does not fit the model, which takes 32×32 images \(\[batch, 3, 32, 32\]\); leave size out to follow the model/)
    const bad = byName('bad data')
    expect(bad.status).toBe('errored')
    expect((bad as { error: { message: string } }).error.message).toMatch(/data set 'mixed': 2 bad items: .*mixed\/empty\.png: empty file.*not-an-image\.jpg: .*unsupported image format/)
    const skipped = byName('bad data skipped') as Measured
    expect(skipped.requests.ok).toBe(24)
    expect((skipped.backendInfo?.pipeline as { items: number; skipped: unknown[] })).toMatchObject({ items: 1 })
    expect((skipped.backendInfo?.pipeline as { skipped: unknown[] }).skipped).toHaveLength(2)
  }, 120_000)

  it('screens items that carry their own tensors against the model\'s inputs and the first item', async () => {
    const added = await runCli(['data', 'add', 'tensors.jsonl', '--name', 'tensors'], project.dir)
    expect(added.code, added.stderr).toBe(0)
    const report = await runBenchmarks({ cwd: project.dir, filters: ['tensors.bench.ts'] })
    const failed = report.jobs.find((j) => j.name === 'tensors')!
    expect(failed.status).toBe('errored')
    const message = (failed as { error: { message: string; code: string } }).error
    expect(message.code).toBe('INFERBENCH_DATA_INVALID')
    expect(message.message).toMatch(/tensors\.jsonl:2: tensor 'input' is float32 \[4\], the first item's \(.*tensors\.jsonl:1\) is float32 \[8\]/)
    expect(message.message).toMatch(/tensors\.jsonl:3: tensor x is not a model input; no tensor for input input \(model inputs: input\)/)
    const skipped = report.jobs.find((j) => j.name === 'tensors skipped') as Measured
    expect(skipped.status, JSON.stringify((skipped as { failures?: string[] }).failures)).toBe('passed')
    expect(skipped.requests.errors).toBe(0)
    expect(skipped.requests.ok).toBeGreaterThan(10)
    expect(skipped.backendInfo?.pipeline).toMatchObject({ items: 2 })
  }, 60_000)

  it('refuses at plan time: an unknown data set, a processor option typo, server placement on an in-process backend', async () => {
    const cases: Array<[string, RegExp]> = [
      [`pipeline: { data: 'imgs' }`, /pipeline: data: no data set 'imgs'; built in: images, sentences, videos.*inferbench data add/],
      [`pipeline: { data: 'images', pre: processor('image', { sise: 32 }) }`, /pipeline: pre: image: sise: unknown option/],
      [`pipeline: { data: 'images', pre: processor('topK') }`, /'topK' is a post-processor; it belongs in 'post'/],
      [`placement: 'server', pipeline: { data: 'images', pre: processor('image') }`, /backend 'onnxruntime' cannot run pre-processing on its server/],
      [`placement: 'server'`, /placement: .*this bench has no pipeline/],
      [`pipelin: { data: 'images' }`, /pipelin: expected a string, number or boolean .*; did you mean the bench option pipeline\?/],
    ]
    for (const [options, message] of cases) {
      writeFileSync(join(project.dir, 'typo.bench.ts'), `import { bench, model, processor } from 'inferbench'
bench('typo', { model: model.generate('fc', { layers: 1, width: 8, inputDim: 4 }), ${options} })
`)
      const listed = await runCli(['typo.bench.ts', '--list'], project.dir)
      expect(listed.code).not.toBe(0)
      expect(listed.stderr).toMatch(message)
    }
  }, 60_000)
})

describe('stagesOf', () => {
  const answer = { outputs: {}, serverTimings: { queueUs: 100, computeUs: 1000 } }
  it('splits the wire time by the server\'s clock, and falls back to one network stage when the clocks disagree', () => {
    expect(stagesOf(0, 500, 3000, 3100, { ...answer, serverReceivedUs: 800, serverSentUs: 2500 }, 'client'))
      .toEqual({ preprocess: 500, request: 300, queue: 100, inference: 1000, server: 600, response: 500, postprocess: 100 })
    // A server clock ahead of ours (another machine): no request/response split.
    expect(stagesOf(0, 500, 3000, 3100, { ...answer, serverReceivedUs: 90_000, serverSentUs: 91_000 }, 'client'))
      .toEqual({ preprocess: 500, queue: 100, inference: 1000, network: 1400, postprocess: 100 })
    expect(stagesOf(0, 10, 2010, 2020, { outputs: {} }, 'client')).toEqual({ preprocess: 10, inference: 2000, postprocess: 10 })
    // Server placement: pre-processing is the server's, and the client's packing counts with sending.
    expect(stagesOf(0, 20, 5000, 5050, { ...answer, serverReceivedUs: 400, serverSentUs: 4600, preprocessUs: 2000 }, 'server'))
      .toEqual({ preprocess: 2000, request: 400, queue: 100, inference: 1000, server: 1100, response: 400, postprocess: 50 })
  })
})
