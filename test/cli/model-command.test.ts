import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { buildFc } from '../../plugins/models/fc.ts'
import { REPO_ROOT, TEST_CACHE_DIR, runCli, tempProject } from '../helpers/temp-project.ts'

const cleanups: Array<() => void> = []
afterEach(() => { while (cleanups.length) cleanups.pop()!() })

describe('inferbench model', () => {
  it('add, ls, update, show, rm, and model.repo() in a bench with model figures in the JSON report', async () => {
    const p = tempProject({
      'inferbench.config.ts': `export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, defaults: { warmup: 50 }, measurement: { minDuration: 100, minRequests: 10 } }\n`,
      'repo.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('from the repository', { model: model.repo('mlp@1'), batch: 4, workload: workload.closed({ duration: '200ms' }) })
`,
    })
    cleanups.push(p.cleanup)
    writeFileSync(join(p.dir, 'mlp.onnx'), buildFc({ layers: 2, width: 16, inputDim: 8, outputDim: 4, activation: 'relu' }))
    writeFileSync(join(p.dir, 'junk.onnx'), 'nope')

    const added = await runCli(['model', 'add', 'mlp.onnx', '--name', 'mlp', '--task', 'classification', '--tag', 'tiny', '--tag', 'test'], p.dir)
    expect(added.code, added.stderr).toBe(0)
    expect(added.stdout).toMatch(/registered mlp@1/)
    const generated = await runCli(['model', 'add', '--generate', 'cnn', '--param', 'layers=1', '--param', 'channels=4', '--param', 'imageSize=8', '--name', 'small-cnn'], p.dir)
    expect(generated.code, generated.stderr).toBe(0)
    const refused = await runCli(['model', 'add', 'junk.onnx', '--name', 'junk'], p.dir)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/junk\.onnx is not an ONNX model: it is a text file/)

    const listed = await runCli(['model', 'ls', '--json'], p.dir)
    const records = JSON.parse(listed.stdout)
    expect(records.map((r: { name: string; version: number }) => `${r.name}@${r.version}`)).toEqual(['mlp@1', 'small-cnn@1'])
    expect(records[1].spec).toEqual({ family: 'cnn', params: { layers: 1, channels: 4, imageSize: 8, kernel: 3, classes: 10 } })
    expect((await runCli(['model', 'update', 'mlp', '--dataset', 'iris'], p.dir)).code).toBe(0)
    expect(JSON.parse((await runCli(['model', 'show', 'mlp@1'], p.dir)).stdout)).toMatchObject({ dataset: 'iris', tags: ['tiny', 'test'], task: 'classification' })

    const run = await runCli(['--reporter=json'], p.dir)
    expect(run.code, run.stderr).toBe(0)
    const job = JSON.parse(run.stdout).jobs[0]
    expect(job.params.model).toBe('mlp@1')
    // fc 8→16→16→4 at batch 4: MatMul MACs 4·(8·16 + 16·16 + 16·4).
    expect(job.model).toMatchObject({ name: 'mlp@1', source: 'repo', params: 8 * 16 + 16 + 16 * 16 + 16 + 16 * 4 + 4, macs: 4 * (8 * 16 + 16 * 16 + 16 * 4), uncounted: [] })
    expect(job.model.flops).toBeGreaterThan(2 * job.model.macs)
    expect(job.model.bytes).toBeGreaterThan(0)

    expect((await runCli(['model', 'rm', 'mlp'], p.dir)).stdout).toMatch(/removed mlp@1/)
    const missing = await runCli(['model', 'show', 'mlp'], p.dir)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/no model named 'mlp'/)
  })

  it('inspect prints parameters, FLOPs and traffic for a zoo model and a file', async () => {
    const p = tempProject({})
    cleanups.push(p.cleanup)
    const zoo = await runCli(['model', 'inspect', 'resnet50', '--batch', '2', '--json'], p.dir)
    expect(zoo.code, zoo.stderr).toBe(0)
    const a = JSON.parse(zoo.stdout)
    expect(a.params).toBe(25_610_152)
    expect(a.macs / 2 / 4.09e9).toBeCloseTo(1, 1)
    expect(a.inputs).toEqual([{ name: 'input', shape: [2, 3, 224, 224] }])
    writeFileSync(join(p.dir, 'm.onnx'), buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
    const file = await runCli(['model', 'inspect', 'm.onnx'], p.dir)
    expect(file.stdout).toMatch(/parameters\s+58 /)
    expect(file.stdout).toMatch(/MatMul/)
    const unknown = await runCli(['model', 'inspect', 'nope'], p.dir)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/'nope' is neither a file nor a generator/)
  })
})

describe('user model files', () => {
  it('binds named dims from declared defaults or bench options, feeds int64 inputs, refuses batch sweeps on a fixed batch', async () => {
    const fixtures = join(REPO_ROOT, 'fixtures')
    const p = tempProject({
      'inferbench.config.ts': `export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, defaults: { warmup: 50 }, measurement: { minDuration: 100, minRequests: 10 } }\n`,
      'files.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
const w = workload.closed({ duration: '150ms' })
describe('tokens', { model: model.file(${JSON.stringify(join(fixtures, 'token-classifier.onnx'))}, { dims: { sequence: 16 } }), batch: [1, 4] }, () => {
  bench('declared default', { workload: w })
  bench('bench option wins', { workload: w, sequence: 64 })
})
describe('fixed', { model: model.file(${JSON.stringify(join(fixtures, 'fixed-batch.onnx'))}), batch: [1, 8] }, () => {
  bench('sweep', { workload: w })
})
`,
    })
    cleanups.push(p.cleanup)
    const run = await runCli(['--reporter=json'], p.dir)
    expect(run.code).toBe(1)
    const jobs = JSON.parse(run.stdout).jobs
    const tokens = jobs.filter((j: { suite: string }) => j.suite.endsWith('tokens'))
    expect(tokens.map((j: { status: string }) => j.status)).toEqual(['passed', 'passed', 'passed', 'passed'])
    const shapes = tokens.map((j: { backendInfo: { inputs: Array<{ shape: number[] }> } }) => j.backendInfo.inputs.map((i) => i.shape.join('x')).join(' '))
    expect(shapes).toEqual(['1x16 1x16', '4x16 4x16', '1x64 1x64', '4x64 4x64'])
    expect(tokens[1].backendInfo.inputs[0].type).toBe('int64')
    const fixed = jobs.filter((j: { suite: string }) => j.suite.endsWith('fixed'))
    expect(fixed.map((j: { status: string }) => j.status)).toEqual(['passed', 'errored'])
    expect(fixed[1].error.message).toMatch(/fixed batch dimension of 1 .* cannot run batch 8; use batch: 1/)
  })
})
