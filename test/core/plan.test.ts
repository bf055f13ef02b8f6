import { describe as d, expect, it } from 'vitest'
import { bench, describe } from '../../core/api.ts'
import { collectFile } from '../../core/collector.ts'
import { model } from '../../core/model-ref.ts'
import { expandMatrix, planJobs, type ServingJob } from '../../core/plan.ts'
import { createRegistry } from '../../core/plugin.ts'
import { workload } from '../../core/workload.ts'
import { models } from '../../plugins/models/index.ts'
import { onnxruntime } from '../../plugins/onnxruntime/index.ts'
import { workloads } from '../../plugins/workloads/index.ts'
import { serverBackend } from '../../plugins/server/backend.ts'
import { GraphBuilder, DType } from '../../plugins/models/onnx-builder.ts'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const registry = createRegistry([workloads(), onnxruntime(), models()])
const defaults = {
  backend: 'onnxruntime', batch: 1, warmup: 100, workload: workload.closed({ concurrency: 1, duration: '1s' }),
}

async function plan(body: () => void, options: { testNamePattern?: RegExp; axes?: Record<string, string> } = {}, reg = registry) {
  const root = await collectFile('/project/bench/x.bench.ts', async () => body())
  return planJobs([root], { root: '/project', registry: reg, defaults, ...options })
}

d('matrix expansion', () => {
  it('makes one job per combination, nested describes merging and benches overriding', async () => {
    const jobs = await plan(() => {
      describe('outer', { model: model.generate('fc', { layers: [1, 2] }), batch: [1, 8] }, () => {
        describe('inner', { intraOpThreads: [1, 2] }, () => {
          bench('closed', { workload: workload.closed({ concurrency: 2, duration: '1s' }) })
          bench('batch 32 only', { batch: 32 })
        })
      })
    })
    const closed = jobs.filter((j) => j.name === 'closed') as ServingJob[]
    expect(closed).toHaveLength(2 * 2 * 2)
    expect(new Set(closed.map((j) => `${j.params.model}|${j.batch}|${j.params.intraOpThreads}`)).size).toBe(8)
    expect(closed[0]!.params).toEqual({ model: 'fc(layers=1)', backend: 'onnxruntime', batch: 1, intraOpThreads: 1 })
    expect(closed[0]!.suite).toBe('bench/x.bench.ts > outer > inner')
    const only32 = jobs.filter((j) => j.name === 'batch 32 only') as ServingJob[]
    expect(only32.map((j) => j.batch)).toEqual([32, 32, 32, 32])
  })

  it('expands model hyper-parameter arrays into separate models', () => {
    const combos = expandMatrix({ model: model.generate('fc', { layers: [2, 4, 8], width: [32, 64] }) }, 'here')
    expect(combos.map((c) => c.model?.source === 'generate' && c.model.params)).toHaveLength(6)
  })

  it('refuses an empty list for an axis, a model list or a hyper-parameter, naming it, instead of planning no jobs', async () => {
    // `probes: []` on a describe used to be read as an empty axis and drop every job silently.
    await expect(plan(() => { describe('s', { model: model.generate('fc'), probes: [] }, () => { bench('b', {}) }) }))
      .rejects.toThrow(/s > b: probes is an option of bench\(\), not of describe\(\): set it on each bench, e.g. bench\('name', \{ probes: … \}\), or for every bench in the config's measurement.probes/)
    await expect(plan(() => { describe('s', { model: model.generate('fc'), warmup: '1s' }, () => { bench('b', {}) }) }))
      .rejects.toThrow(/s > b: warmup is an option of bench\(\), not of describe\(\)/)
    // On the bench itself, an empty probe list means no probes.
    const [job] = await plan(() => { bench('b', { model: model.generate('fc'), probes: [] }) })
    expect((job as ServingJob).probes).toEqual([])
    expect(() => expandMatrix({ batch: [] }, 'here')).toThrow(/here: batch: an empty list gives no jobs/)
    expect(() => expandMatrix({ model: [] }, 'here')).toThrow(/here: model: an empty list gives no jobs/)
    expect(() => expandMatrix({ model: model.generate('fc', { layers: [] }) }, 'here')).toThrow(/here: model.generate\('fc'\): layers: an empty list gives no models/)
    expect(expandMatrix({ batch: [1, 2] }, 'here')).toHaveLength(2)
  })

  it('gives stable ids that change with the parameters', async () => {
    const body = () => {
      describe('s', { model: model.generate('fc'), batch: [1, 2] }, () => { bench('b', {}) })
    }
    const a = await plan(body)
    const b = await plan(body)
    expect(a.map((j) => j.id)).toEqual(b.map((j) => j.id))
    expect(a[0]!.id).not.toBe(a[1]!.id)
    expect(a[0]!.id).toMatch(/^[0-9a-f]{12}$/)
  })

  it('estimates warm-up + measurement + a cold-start allowance', async () => {
    const jobs = await plan(() => {
      bench('b', { model: model.generate('fc'), warmup: '2s', workload: workload.poisson({ rate: 10, duration: '3s' }) })
    })
    expect(jobs[0]!.estimateMs).toBe(500 + 2000 + 3000)
  })

  it('applies .skip, .only and -t', async () => {
    const jobs = await plan(() => {
      describe('a', { model: model.generate('fc') }, () => {
        bench('one', {})
        bench.skip('two', {})
      })
      describe.only('b', { model: model.generate('fc') }, () => {
        bench('three', {})
        bench('four', {})
      })
    }, { testNamePattern: /three|one|two/ })
    const skip = Object.fromEntries(jobs.map((j) => [j.name, j.skip]))
    expect(skip.one).toMatch(/another bench or describe in this file has \.only/)
    expect(skip.two).toBe('bench.skip')
    expect(skip.three).toBeUndefined()
    expect(skip.four).toMatch(/does not match -t/)
  })

  it('names the bench and the field for a bad axis value', async () => {
    await expect(plan(() => {
      describe('s', { model: model.generate('fc'), batch: [1, 0] }, () => { bench('b', {}) })
    })).rejects.toThrow(/bench\/x\.bench\.ts > s > b: batch: expected a positive integer/)
    await expect(plan(() => {
      bench('b', { model: model.generate('fc'), seqLen: { a: 1 } })
    })).rejects.toThrow(/seqLen: expected a string, number or boolean/)
    await expect(plan(() => {
      bench('b', { model: model.generate('fc'), workload: workload.poisson({ rate: -1, duration: '1s' }) })
    })).rejects.toThrow(/workload poisson: rate: Too small/)
    await expect(plan(() => {
      bench('b', { model: model.generate('fc'), slo: { p99: 'fast' } })
    })).rejects.toThrow(/slo\.p99: received "fast"; expected a duration/)
  })

  it('plans a function micro-benchmark as one job', async () => {
    const jobs = await plan(() => { bench('fn', () => 1, { time: '200ms' }) })
    expect(jobs).toHaveLength(1)
    expect(jobs[0]!.kind).toBe('function')
  })
})

d('plugins named by a bench', () => {
  it('an unknown backend or generator fails at plan time, naming the bench and what is registered', async () => {
    await expect(plan(() => { bench('b', { model: model.generate('fc'), backend: 'onnxrutime' }) }))
      .rejects.toThrow(/bench\/x\.bench\.ts > b: unknown backend 'onnxrutime'; registered: onnxruntime/)
    await expect(plan(() => { bench('b', { model: model.generate('fcc') }) }))
      .rejects.toMatchObject({ code: 'INFERBENCH_PLUGIN_MISSING', message: expect.stringMatching(/> b: unknown model generator 'fcc'; registered: fc, /) })
  })
})

/** A one-Relu ONNX file whose input is [batch, dim], both symbolic under the given names. */
function reluModelFile(batch: string, dim: string): string {
  const g = new GraphBuilder('relu', 1)
  g.input('x', DType.FLOAT, [batch, dim])
  g.node('Relu', ['x'], {}, ['y'])
  g.output('y', DType.FLOAT, [batch, dim])
  const file = join(mkdtempSync(join(tmpdir(), 'inferbench-dims-')), 'relu.onnx')
  writeFileSync(file, g.build())
  return file
}

d('every parameter is claimed', () => {
  const withServer = createRegistry([workloads(), onnxruntime(), models(), serverBackend()])
  const TINY = () => model.generate('fc', { layers: 1, width: 8, inputDim: 4 })

  it('a typo is refused at plan time, naming the parameter, the nearest name and who takes it', async () => {
    await expect(plan(() => describe('s', { model: TINY(), intraOpThread: 2 }, () => bench('b', {})))).rejects.toThrow(
      /bench\/x\.bench\.ts > s > b: parameter 'intraOpThread' is read by nothing in this job \(backend 'onnxruntime'\) and no registered plugin takes it; did you mean 'intraOpThreads' \(an option of backend 'onnxruntime', plugin inferbench:onnxruntime\)\?/)
  })
  it('an axis nothing reads would duplicate jobs silently: refused, with how to declare a descriptive one', async () => {
    const error = await plan(() => describe('s', { model: TINY(), network: ['lan', 'lte'] }, () => bench('b', {}))).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'INFERBENCH_BENCH_INVALID' })
    expect(String((error as Error).message)).toMatch(/parameter 'network' is read by nothing.*axes: \{ network: 'what it means' \}/)
  })
  it('an option of another backend names that backend and its plugin', async () => {
    await expect(plan(() => describe('s', { model: TINY(), maxBatch: 8 }, () => bench('b', {})), {}, withServer)).rejects.toThrow(
      /parameter 'maxBatch' is an option of backend 'server' \(plugin inferbench:server\), not of backend 'onnxruntime'/)
    const jobs = await plan(() => describe('s', { model: TINY(), backend: 'server', maxBatch: [0, 8] }, () => bench('b', {})), {}, withServer)
    expect(jobs).toHaveLength(2)
  })
  it('two jobs with one id, a missing model file and a generator parameter typo are refused at plan time', async () => {
    await expect(plan(() => describe('s', { model: TINY() }, () => {
      bench('b', { workload: workload.closed({ concurrency: 1, duration: '1s' }) })
      bench('b', { workload: workload.closed({ concurrency: 2, duration: '1s' }) })
    }))).rejects.toThrow(/s > b .*the same bench name and parameters as s > b .*give the benches different names/)
    await expect(plan(() => describe('s', { model: model.file('/nowhere/m.onnx') }, () => bench('b', {})))).rejects.toMatchObject({ code: 'INFERBENCH_MODEL_NOT_FOUND', message: expect.stringMatching(/s > b: model\.file: no file \/nowhere\/m\.onnx/) })
    await expect(plan(() => describe('s', { model: model.generate('fc', { layer: 2 }) }, () => bench('b', {})))).rejects.toThrow(/s > b: model 'fc': layer: unknown option/)
  })
  it('sharing and probes are checked at plan time: shape, a backend that can share, a registered probe', async () => {
    const [job] = await plan(() => describe('s', { model: TINY(), backend: 'server' }, () => bench('b', { sharing: { instances: 3 } })), {}, withServer) as ServingJob[]
    expect(job!.sharing).toEqual({ instances: 3, mps: false })
    expect(job!.params.sharing).toBe('3 copies')
    await expect(plan(() => describe('s', { model: TINY() }, () => bench('b', { sharing: { instances: 2 } })), {}, withServer)).rejects.toThrow(
      /s > b: sharing: backend 'onnxruntime' cannot serve several copies of a model; use backend: 'server'/)
    await expect(plan(() => describe('s', { model: TINY(), backend: 'server' }, () => bench('b', { sharing: { instances: 0, gpus: 2 } as never })), {}, withServer)).rejects.toThrow(
      /sharing: expected \{ instances: <copies, 1 or more>, mps\?: true\|false \} \(unknown: gpus\)/)
    await expect(plan(() => describe('s', { model: TINY() }, () => bench('b', { probes: 'cpu' as never })))).rejects.toThrow(/probes: expected an array of probe names/)
  })
  it('declared descriptive axes and a file model\'s symbolic dims are claimed', async () => {
    expect(await plan(() => describe('s', { model: TINY(), round: [1, 2, 3] }, () => bench('b', {})), { axes: { round: 'repetition' } })).toHaveLength(3)
    const file = reluModelFile('batch', 'seqLen')
    expect(await plan(() => describe('s', { model: model.file(file), seqLen: [16, 32] }, () => bench('b', {})))).toHaveLength(2)
    await expect(plan(() => describe('s', { model: model.file(file), seqLn: 16 }, () => bench('b', {})))).rejects.toThrow(
      /parameter 'seqLn' is read by nothing in this job \(backend 'onnxruntime', model dims batch, seqLen\).*did you mean 'seqLen' \(a symbolic input dim of the model\)/)
  })

  it('checks option values and model dims at plan time, not job by job', async () => {
    await expect(plan(() => describe('s', { model: TINY(), intraOpThreads: 'two' }, () => bench('b', {})))).rejects.toThrow(
      /s > b: onnxruntime backend options: intraOpThreads="two": .*expected number/)
    await expect(plan(() => describe('s', { model: TINY(), thread: 'gpu' }, () => bench('b', {})))).rejects.toThrow(/thread="gpu": /)
    const file = reluModelFile('batch_size', 'sequence')
    // A symbolic dim nothing sizes would error every job at run time.
    await expect(plan(() => describe('s', { model: model.file(file) }, () => bench('b', {})))).rejects.toThrow(
      /the model's input dimension 'sequence' \(axis 1\) is symbolic and nothing sizes it; add sequence: <size>/)
    expect(await plan(() => describe('s', { model: model.file(file, { dims: { sequence: 8 } }) }, () => bench('b', {})))).toHaveLength(1)
    // The batch axis is sized by batch: binding its name would make samples/s count the wrong batch.
    await expect(plan(() => describe('s', { model: model.file(file), sequence: 8, batch_size: 4 }, () => bench('b', {})))).rejects.toThrow(
      /'batch_size' is the model's batch dimension \(axis 0\): set batch: 4 instead/)
    expect(await plan(() => describe('s', { model: model.file(file), sequence: 8, batch: 4, batch_size: 4 }, () => bench('b', {})))).toHaveLength(1)
  })
})
