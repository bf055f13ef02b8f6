import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { afterAll as benchAfterAll, bench, describe as suite } from '../../core/api.ts'
import { collectFile } from '../../core/collector.ts'
import { model } from '../../core/model-ref.ts'
import { planAsYamlSuite } from '../../core/plan-as-yaml.ts'
import { planJobs, type Job, type ServingJob } from '../../core/plan.ts'
import { createRegistry } from '../../core/plugin.ts'
import { workload } from '../../core/workload.ts'
import { collectYamlSuite } from '../../core/yaml-suite.ts'
import { models } from '../../plugins/models/index.ts'
import { onnxruntime } from '../../plugins/onnxruntime/index.ts'
import { probes } from '../../plugins/probes/index.ts'
import { processors } from '../../plugins/processors/index.ts'
import { processor } from '../../core/pipeline.ts'
import { workloads } from '../../plugins/workloads/index.ts'
import { tempProject } from '../helpers/temp-project.ts'

// A plugin's workload that takes any option, as a third party's may: a function among them cannot travel.
const lenient = { name: 'lenient', workloads: { lenient: () => ({ kind: 'closed' as const, label: 'lenient', concurrency: 1, requests: 5 }) } }
const registry = createRegistry([workloads(), onnxruntime(), models(), probes(), processors(), lenient])
const defaults = { backend: 'onnxruntime', batch: 1, warmup: 100, workload: workload.closed({ concurrency: 1, duration: '1s' }) }
const project = tempProject({})
afterAll(() => project.cleanup())

async function planTs(body: () => void, pattern?: RegExp): Promise<Job[]> {
  const file = join(project.dir, 'suite.bench.ts')
  return planJobs([await collectFile(file, async () => body())], { root: project.dir, registry, defaults, ...(pattern ? { testNamePattern: pattern } : {}) })
}
async function planYaml(text: string): Promise<Job[]> {
  const file = join(project.dir, 'suite.bench.yaml')
  writeFileSync(file, text)
  return planJobs([await collectFile(file, async () => collectYamlSuite(file, 'suite'))], { root: project.dir, registry, defaults })
}
/** What a job measures, leaving out its name (the YAML suite adds one describe level). */
const shape = (jobs: Job[]) => (jobs as ServingJob[]).filter((j) => !j.skip).map((j) => ({
  params: j.params, workload: j.workload.label, offered: j.workload.kind === 'open' ? [...j.workload.arrivalsMs] : j.workload.concurrency,
  warmup: j.warmup, slo: j.slo, probes: j.probes, pipeline: j.pipeline, estimateMs: j.estimateMs,
}))

describe('a .bench.ts plan as a YAML suite (what submit sends)', () => {
  it('plans again into the same jobs: sweeps, nested describes, model parameters, workload, warm-up, SLO and probes', async () => {
    const ts = await planTs(() => {
      suite('mlp', { model: model.generate('fc', { layers: [1, 2], width: 16 }), batch: [1, 4] }, () => {
        bench('closed', { workload: workload.closed({ concurrency: 2, duration: '2s' }), warmup: { requests: 5 }, slo: { p99: '50ms', errorRate: '1%' }, probes: ['cpu'], intraOpThreads: [1, 2] })
        suite('open', { batch: 1 }, () => {
          bench('poisson', { workload: workload.poisson({ rate: 100, duration: '2s', seed: 3 }), warmup: false })
        })
        bench.skip('skipped', {})
      })
      suite('cnn', { model: model.generate('cnn', { layers: 1, channels: 8, imageSize: 32 }) }, () => {
        bench('jpeg', { pipeline: { data: 'images', pre: processor('image', { size: 32 }), post: processor('topK', { k: 3 }), onBadItem: 'skip' } })
      })
    })
    const sent = planAsYamlSuite(ts, join(project.dir, 'suite.bench.ts'), 'suite.bench.ts')
    expect(sent.name).toBe('suite.bench.yaml')
    const again = await planYaml(sent.yaml)
    expect(again).toHaveLength(2 * 2 * 2 + 2 + 1)
    // The pipeline is in the job's row and id: labels of its data set and processors.
    expect(again.at(-1)!.params).toMatchObject({ data: 'images', pre: 'image(size=32)', post: 'topK(k=3)' })
    expect((again.at(-1) as ServingJob).pipeline).toEqual({ data: 'images', pre: { type: 'image', options: { size: 32 } }, post: { type: 'topK', options: { k: 3 } }, onBadItem: 'skip' })
    expect(shape(again)).toEqual(shape(ts))
    // The local ids ride along, so the cluster's results compare with local runs of the same jobs.
    expect(again.map((j) => j.id)).toEqual(ts.filter((j) => !j.skip).map((j) => j.id))
    expect(again.map((j) => j.fullName)).toContain('suite > mlp > open > poisson [model=fc(layers=2,width=16), backend=onnxruntime, batch=1] poisson(100/s, 2s, seed=3)')
  })

  it('refuses what is code, by name, and a plan with nothing to run', async () => {
    const ts = await planTs(() => {
      suite('mixed', { model: model.generate('fc', { layers: 1, width: 16 }) }, () => {
        bench('fn', () => {})
        bench('checked', { workload: workload.closed({ requests: 5 }) }, () => {})
        suite('hooked', {}, () => {
          benchAfterAll(() => {})
          bench('served', { workload: workload.closed({ requests: 5 }) })
        })
        bench('custom workload', { workload: workload.use('lenient', { onDone: () => {} }) })
      })
    })
    const refuse = (jobs: Job[]) => () => planAsYamlSuite(jobs, 'x.bench.ts', 'x.bench.ts')
    expect(refuse(ts.filter((j) => j.name !== 'custom workload'))).toThrow(/x\.bench\.ts > mixed > fn: a function benchmark is code[\s\S]*mixed > checked .*: its check callback is code[\s\S]*mixed > hooked > served .*: its describe has beforeAll\/afterAll hooks/)
    expect(refuse(ts.filter((j) => j.name === 'custom workload'))).toThrow(/custom workload .*: workload\.onDone: a function cannot be sent as data/)
    expect(refuse(ts.map((j) => ({ ...j, skip: '-t' })))).toThrow(/x\.bench\.ts plans no job to run/)
  })
})

describe('MLPerf scenarios in the plan', () => {
  it('Server\'s latency bound is the job\'s p99 SLO unless the bench sets one; MultiStream checks the batch', async () => {
    const jobs = await planTs(() => {
      suite('fc', { model: model.generate('fc', { layers: 1, width: 16 }) }, () => {
        bench('server', { workload: workload.server({ rate: 50, latencyBound: '15ms', duration: '2s' }) })
        bench('own p99', { workload: workload.server({ rate: 50, latencyBound: '15ms', duration: '2s' }), slo: { p99: '20ms' } })
      })
    }) as ServingJob[]
    expect(jobs.map((j) => j.slo.p99)).toEqual([15, 20])
    await expect(planTs(() => { bench('ms', { model: model.generate('fc', { layers: 1, width: 16 }), workload: workload.multiStream({ duration: '1s' }) }) }))
      .rejects.toThrow(/MLPerf MultiStream sends 8 samples per query; set batch: 8, not 1/)
  })
})
