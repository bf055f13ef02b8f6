import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, tempProject } from '../helpers/temp-project.ts'

describe('types for a project that depends on inferbench', () => {
  const project = tempProject({
    'tsconfig.json': JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
      include: ['*.ts'],
    }),
    'typed.bench.ts': `import { bench, describe, model, workload, defineConfig } from 'inferbench'
import { definePlugin, synthesizeInputs, KserveHttpClient, RawHttpClient, InstanceQueue, type BackendFactory, type SynthesisedInput } from 'inferbench/plugin'
import { backendConformance } from 'inferbench/plugin/testing'
describe('x', { model: model.generate('fc', { layers: [2, 4] }), batch: [1, 8], seqLen: 128 }, () => {
  bench('a', { workload: workload.poisson({ rate: 10, duration: '1s' }), slo: { p99: '10ms' } }, (r) => {
    const p99: number = r.latency.p99
    return { p99 }
  })
  // @ts-expect-error rate must be a number
  bench('b', { workload: workload.poisson({ rate: 'fast', duration: '1s' }) })
  // @ts-expect-error p98 is not an SLO metric
  bench('c', { slo: { p98: '1ms' } })
})
// The helpers the built-ins are written with come from inferbench/plugin too.
const inputs: SynthesisedInput[] = synthesizeInputs([{ name: 'x', type: 'float32', shape: ['batch', 4] }], { modelName: 'm', batch: 2, params: {}, intHigh: 2, seed: 1 })
const clients: [typeof KserveHttpClient, typeof RawHttpClient, InstanceQueue<number>] = [KserveHttpClient, RawHttpClient, new InstanceQueue([1])]
void inputs
void clients
const echo: BackendFactory = async () => ({ infer: async () => {}, close: async () => {} })
export const checks = backendConformance({ factory: echo, context: { jobId: 'j', batch: 1, params: {}, cacheDir: '.' }, failing: { jobId: 'k', batch: 1, params: {}, cacheDir: '.' } }).map((c) => c.name)
export const plugin = definePlugin({ name: 'echo', backends: { echo } })
export default defineConfig({ plugins: [plugin, false], measurement: { windows: 5 } })
`,
  })
  afterAll(project.cleanup)

  it('type-checks a bench file importing from inferbench and inferbench/plugin, with full types', () => {
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc')
    const result = spawnSync(process.execPath, [tsc, '-p', '.'], { cwd: project.dir, encoding: 'utf8' })
    expect(result.stdout + result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})
