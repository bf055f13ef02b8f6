import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { bench, describe as suite } from '../../core/api.ts'
import { collectFile } from '../../core/collector.ts'
import { model } from '../../core/model-ref.ts'
import { planJobs, type ServingJob } from '../../core/plan.ts'
import { createRegistry } from '../../core/plugin.ts'
import { workload } from '../../core/workload.ts'
import { collectYamlSuite } from '../../core/yaml-suite.ts'
import { models } from '../../plugins/models/index.ts'
import { onnxruntime } from '../../plugins/onnxruntime/index.ts'
import { probes } from '../../plugins/probes/index.ts'
import { workloads } from '../../plugins/workloads/index.ts'
import { runCli, tempProject } from '../helpers/temp-project.ts'

const registry = createRegistry([workloads(), onnxruntime(), models(), probes()])
const defaults = { backend: 'onnxruntime', batch: 1, warmup: 100, workload: workload.closed({ concurrency: 1, duration: '1s' }) }
const project = tempProject({})
afterAll(() => project.cleanup())

async function planYaml(text: string) {
  const file = join(project.dir, 'suite.bench.yaml')
  writeFileSync(file, text)
  return planJobs([await collectFile(file, async () => collectYamlSuite(file, 'suite'))], { root: project.dir, registry, defaults })
}
async function planTs(body: () => void) {
  return planJobs([await collectFile(join(project.dir, 'suite.bench.ts'), async () => body())], { root: project.dir, registry, defaults })
}
const shape = (jobs: Awaited<ReturnType<typeof planYaml>>) => (jobs as ServingJob[]).map((j) => ({
  name: j.fullName, params: j.params, workload: j.workload.label, warmup: j.warmup, slo: j.slo, probes: j.probes, skip: j.skip,
}))

describe('*.bench.yaml', () => {
  it('plans exactly the jobs the same suite written in TypeScript plans', async () => {
    const yaml = await planYaml(`
name: mlp
model: [{ generate: fc, params: { layers: [1, 2], width: 16 } }]
matrix: { batch: [1, 4] }
benches:
  - name: closed
    workload: { type: closed, concurrency: 2, duration: 2s }
    warmup: 500ms
    slo: { p99: 50ms, errorRate: 1% }
    probes: [cpu]
    intraOpThreads: [1, 2]
  - name: poisson
    workload: { type: poisson, rate: 100, duration: 2s, seed: 3 }
    warmup: false
    skip: true
`)
    const ts = await planTs(() => {
      suite('mlp', { model: model.generate('fc', { layers: [1, 2], width: 16 }), batch: [1, 4] }, () => {
        bench('closed', { workload: workload.closed({ concurrency: 2, duration: '2s' }), warmup: '500ms', slo: { p99: '50ms', errorRate: '1%' }, probes: ['cpu'], intraOpThreads: [1, 2] })
        bench.skip('poisson', { workload: workload.poisson({ rate: 100, duration: '2s', seed: 3 }), warmup: false })
      })
    })
    expect(yaml).toHaveLength(2 * 2 * 2 + 2 * 2)
    expect(shape(yaml)).toEqual(shape(ts))
  })

  it('is checked like a bench file: bad YAML, unknown keys and bad values by file and line; unclaimed parameters by the plan', async () => {
    await expect(planYaml('benches:\n  - name: a\n   bad: [\n')).rejects.toThrow(/suite\.bench\.yaml:3: not valid YAML/)
    await expect(planYaml('benches:\n  - name: a\nmodle: { zoo: resnet50 }\n')).rejects.toThrow(/suite\.bench\.yaml:3: modle: unknown key; expected name, model, matrix, benches/)
    await expect(planYaml('model: { generat: fc }\nbenches:\n  - name: a\n')).rejects.toThrow(/suite\.bench\.yaml:1: model: expected \{ file: path \}, \{ generate: family, params \}/)
    await expect(planYaml('benches:\n  - name: a\n    workload: { concurrency: 2 }\n')).rejects.toThrow(/suite\.bench\.yaml:3: benches\.0\.workload\.type: /)
    await expect(planYaml('model: { generate: fc }\nbenches:\n  - name: a\n    intraOpThread: 2\n')).rejects.toThrow(/parameter 'intraOpThread' is read by nothing .*did you mean 'intraOpThreads'/)
    await expect(planYaml('model: { generate: fc }\nbenches:\n  - name: a\n    probes: [gpuz]\n')).rejects.toThrow(/probes: unknown probe 'gpuz'/)
    await expect(planYaml('benches:\n  - name: a\n    warmpu: 1s\n')).rejects.toThrow(/suite\.bench\.yaml:3: benches\.0\.warmpu: did you mean warmup\?/)
    // Anchors under x-… keys, merged with <<: a bench's own model.
    const merged = await planYaml('x-common: &c { warmup: false, workload: { type: closed, requests: 20 } }\nbenches:\n  - name: a\n    <<: *c\n    model: { generate: fc, params: { layers: 1, width: 8 } }\n') as ServingJob[]
    expect(merged).toHaveLength(1)
    expect(merged[0]).toMatchObject({ warmup: undefined, params: { model: 'fc(layers=1,width=8)' } })
  })

  it('is found by the default include and runs from the command line', async () => {
    const dir = tempProject({
      'tiny.bench.yaml': `model: { generate: fc, params: { layers: 1, width: 8, inputDim: 4 } }
benches:
  - name: quick
    workload: { type: closed, requests: 30 }
    warmup: false
`,
      'inferbench.config.ts': 'export default { measurement: { minDuration: 0, minRequests: 10 }, perfDb: false }\n',
    })
    try {
      const run = await runCli(['--reporter', 'json'], dir.dir)
      expect(run.code, run.stderr).toBe(0)
      const report = JSON.parse(run.stdout) as { jobs: Array<{ suite: string; name: string; status: string; requests: { ok: number } }> }
      expect(report.jobs).toMatchObject([{ suite: 'tiny.bench.yaml > tiny', name: 'quick', status: 'passed', requests: { ok: 30 } }])
    } finally {
      dir.cleanup()
    }
  }, 60_000)
})
