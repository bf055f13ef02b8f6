import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { REPO_ROOT, runCli, tempProject, TEST_CACHE_DIR } from '../helpers/temp-project.ts'

const cleanups: Array<() => void> = []
afterEach(() => { while (cleanups.length) cleanups.pop()!() })

function project(files: Record<string, string> = {}) {
  const p = tempProject({
    'inferbench.config.ts': `export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, defaults: { warmup: false }, measurement: { minDuration: '100ms', minRequests: 10 } }\n`,
    'tiny.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('tiny', { model: model.generate('fc', { layers: 1, width: 8, inputDim: 4 }), workload: workload.closed({ requests: 50 }) })
`,
    ...files,
  })
  cleanups.push(p.cleanup)
  return p.dir
}

/** The reason on one line, no stack frames, and no job ran (nothing measured was thrown away). */
function expectRefusedBeforeRunning(result: { code: number | null; stdout: string; stderr: string }, code: number, pattern: RegExp, lines = 1) {
  expect(result.code, result.stdout + result.stderr).toBe(code)
  expect(result.stderr.trim().split('\n')).toHaveLength(lines)
  expect(result.stderr).toMatch(pattern)
  expect(result.stderr).not.toMatch(/\n\s+at |unexpected error/)
  expect(result.stdout).not.toMatch(/INFERBENCH/)
}

describe("report outputs are checked before the first job", () => {
  it.each([
    ['under a file', (dir: string) => { writeFileSync(join(dir, 'afile'), 'x'); return 'afile/report.json' }, /afile is a file, so .*report\.json cannot be created under it/],
    ['a directory', (dir: string) => { mkdirSync(join(dir, 'adir')); return 'adir' }, /adir is a directory; give a file path/],
    ['under /proc', () => '/proc/inferbench/report.json', /\/proc is on the kernel's proc filesystem/],
  ])('--outputFile %s: exit 2 with the path and the reason', async (_what, path, reason) => {
    const dir = project()
    const result = await runCli(['--reporter', 'json', `--outputFile.json=${path(dir)}`], dir, 30_000)
    expectRefusedBeforeRunning(result, 2, reason)
    expect(result.stderr).toMatch(/outputFile\.json: cannot write the json report/)
  })

  it.each([
    [['--outputFile.json='], /--outputFile\.json: expected a file path, received an empty string/],
    [['--outputFile.json=a.json', '--outputFile.json=b.json'], /--outputFile\.json is given twice \(a\.json and b\.json\)/],
    [['--outputFile.__proto__=x.json'], /'__proto__' is not a reporter name/],
    [['--outputFile.constructor=x.json'], /'constructor' is not a reporter name/],
  ])('%j is refused before the run', async (args, reason) => {
    const dir = project()
    expectRefusedBeforeRunning(await runCli(['--reporter', 'json', ...args], dir, 30_000), 2, reason)
  })

  it('an unknown reporter in --outputFile.<name> is an error naming the reporters', async () => {
    const dir = project()
    const result = await runCli(['--outputFile.jsno=out.json'], dir, 30_000)
    expectRefusedBeforeRunning(result, 2, /outputFile\.jsno: no reporter is named 'jsno'; reporters: default, json/)
  })

  it('a reporter that throws is named in a warning; the run, the other reporters and the exit code go on', async () => {
    const dir = project({
      'inferbench.config.ts': `import { definePlugin } from 'inferbench/plugin'
const broken = definePlugin({ name: 'broken', reporters: { broken: () => ({
  onJobEnd() { throw new Error('boom in onJobEnd') },
  async onRunEnd() { throw new Error('never reached') },
}) } })
export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, plugins: [broken], reporters: ['broken', 'default', 'json'], outputFile: { json: 'out.json' },
  defaults: { warmup: false }, measurement: { minDuration: 0, minRequests: 10 } }
`,
    })
    const result = await runCli([], dir, 60_000)
    expect(result.code, result.stdout + result.stderr).toBe(0)
    expect(result.stderr).toMatch(/reporter 'broken' failed in onJobEnd: boom in onJobEnd; it is skipped for the rest of the run/)
    expect(result.stderr).not.toMatch(/never reached/)
    expect(result.stdout).toMatch(/1 passed/)
    expect(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')).counts.passed).toBe(1)
  })
})

describe('bad model files get a clean error everywhere', () => {
  const fixture = (name: string) => join(REPO_ROOT, 'fixtures', name)
  it.each([
    ['an empty file', () => '', /empty\.onnx is not an ONNX model: the file is empty \(0 bytes\)/],
    ['a text file', () => 'hello, this is text\n', /text\.onnx is not an ONNX model: it is a text file/],
    ['a PNG image', () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), /png\.onnx is not an ONNX model: it is a PNG image/],
    ['a truncated model', () => readFileSync(fixture('token-classifier.onnx')).subarray(0, 400), /truncated\.onnx is not an ONNX model: truncated at byte 400/],
  ])('model inspect on %s: one line, exit 2', async (what, content, reason) => {
    const dir = project()
    const name = { 'an empty file': 'empty', 'a text file': 'text', 'a PNG image': 'png', 'a truncated model': 'truncated' }[what]!
    writeFileSync(join(dir, `${name}.onnx`), content())
    expectRefusedBeforeRunning(await runCli(['model', 'inspect', `${name}.onnx`], dir, 30_000), 2, reason)
  })

  it('--batch on a fixed-batch model, and a symbolic dim without --param, are refused by name', async () => {
    const dir = project()
    expectRefusedBeforeRunning(await runCli(['model', 'inspect', fixture('fixed-batch.onnx'), '--batch', '4'], dir, 30_000), 2,
      /fixed-batch\.onnx has a fixed batch of 1 \(input 'images' is \[1,3,8,8\]\); drop --batch 4/)
    const unbound = await runCli(['model', 'inspect', fixture('token-classifier.onnx')], dir, 30_000)
    expectRefusedBeforeRunning(unbound, 2, /dim 'sequence' \(input 'input_ids', axis 1\) needs --param sequence=N/)
    expect(unbound.stderr.match(/dim 'sequence'/g)).toHaveLength(1)
    for (const bad of ['-3', '0', '1.5', 'abc']) {
      expectRefusedBeforeRunning(await runCli(['model', 'inspect', fixture('token-classifier.onnx'), '--param', `sequence=${bad}`], dir, 30_000), 2,
        new RegExp(`--param sequence=${bad.replace('.', '\\.')}: the size of a dimension must be a positive integer`))
    }
    const bound = await runCli(['model', 'inspect', fixture('token-classifier.onnx'), '--param', 'sequence=16'], dir, 30_000)
    expect(bound.code, bound.stderr).toBe(0)
    expect(bound.stdout).toMatch(/input_ids\[1,16\]/)
  })
})

describe('empty and blank inputs', () => {
  it.each([
    [['model', 'add', 'x.onnx', '--name', ''], /--name: expected a value, received an empty string/],
    [['model', 'add', 'x.onnx', '--name', 'ok', '--task', ''], /--task: expected a value, received an empty string/],
    [['-t', ''], /-t: expected a value, received an empty string/],
    [['serve', '--model', ''], /--model: expected a value, received an empty string/],
  ])('%j is refused by name (exit 2), not stored as "0"', async (args, reason) => {
    const dir = project()
    expectRefusedBeforeRunning(await runCli(args, dir, 30_000), 2, reason)
    expect(existsSync(join(dir, '.inferbench/models'))).toBe(false)
  })

  it('a value that looks like a number stays the string typed: --task 007', async () => {
    const dir = project()
    writeFileSync(join(dir, 'm.onnx'), readFileSync(join(REPO_ROOT, 'fixtures/fixed-batch.onnx')))
    const added = await runCli(['model', 'add', 'm.onnx', '--name', '0042', '--task', '007', '--json'], dir, 30_000)
    expect(added.code, added.stderr).toBe(0)
    expect(JSON.parse(added.stdout)).toMatchObject({ name: '0042', task: '007' })
  })

  it('a bench file with no benches, or a filter that matches nothing, exits 1 with a message; --passWithNoTests exits 0', async () => {
    const dir = project({ 'empty.bench.ts': `import { bench } from 'inferbench'\n` })
    const none = await runCli(['empty.bench.ts'], dir, 30_000)
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no benches in 1 bench file \(empty\.bench\.ts\); nothing to run\. .*--passWithNoTests/)
    const unmatched = await runCli(['-t', 'nothing-matches-this'], dir, 30_000)
    expect(unmatched.code).toBe(1)
    expect(unmatched.stderr).toMatch(/all 1 jobs are skipped; nothing to run/)
    const passing = await runCli(['empty.bench.ts', '--passWithNoTests'], dir, 30_000)
    expect(passing.code, passing.stderr).toBe(0)
    expect(passing.stdout).toMatch(/nothing to run \(--passWithNoTests\)/)
  })

  it('a malformed duration says which forms are expected', async () => {
    const dir = project({ 'bad.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('bad', { model: model.generate('fc', { layers: 1, width: 8, inputDim: 4 }), workload: workload.closed({ duration: true as never }) })
`,
    'inferbench.config.ts': `export default { defaults: { warmup: true } }\n` })
    const config = await runCli(['tiny.bench.ts'], dir, 30_000)
    expectRefusedBeforeRunning(config, 2, /defaults\.warmup: expected a duration like '500ms', '10s', '2m' or a number of milliseconds, \{ duration, requests \} or false, received boolean true/, 2)
    writeFileSync(join(dir, 'inferbench.config.ts'), 'export default {}\n')
    const bench = await runCli(['bad.bench.ts'], dir, 30_000)
    expectRefusedBeforeRunning(bench, 2, /workload closed: duration: expected a duration like '500ms', '10s', '2m' or a number of milliseconds, received boolean true/)
    writeFileSync(join(dir, 'bad.bench.ts'), readFileSync(join(dir, 'bad.bench.ts'), 'utf8').replace('true as never', "'0s'"))
    expectRefusedBeforeRunning(await runCli(['bad.bench.ts'], dir, 30_000), 2, /workload closed: duration: expected a duration above zero/)
    writeFileSync(join(dir, 'inferbench.config.ts'), `export default { measurement: { jobTimeout: 0 } }\n`)
    expectRefusedBeforeRunning(await runCli(['tiny.bench.ts'], dir, 30_000), 2, /measurement\.jobTimeout: expected a duration above zero/, 2)
  })
})
