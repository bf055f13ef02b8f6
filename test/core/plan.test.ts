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

const registry = createRegistry([workloads(), onnxruntime(), models()])
const defaults = {
  backend: 'onnxruntime', batch: 1, warmup: 100, workload: workload.closed({ concurrency: 1, duration: '1s' }),
}

async function plan(body: () => void, options: { testNamePattern?: RegExp } = {}) {
  const root = await collectFile('/project/bench/x.bench.ts', async () => body())
  return planJobs([root], { root: '/project', registry, defaults, ...options })
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
