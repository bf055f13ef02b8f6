import { createServer, type Server } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFc } from '../../plugins/models/fc.ts'
import { serveFailure } from '../helpers/serve-process.ts'
import { runCli, tempProject, TEST_CACHE_DIR } from '../helpers/temp-project.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-startup-'))
const good = join(dir, 'mlp.onnx')
writeFileSync(good, buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
writeFileSync(join(dir, 'empty.onnx'), '')
writeFileSync(join(dir, 'text.onnx'), 'this is not a model\n')
const goodBytes = readFileSync(good)
writeFileSync(join(dir, 'truncated.onnx'), goodBytes.subarray(0, goodBytes.length - 20))

let holder: Server
let takenPort: number
beforeAll(async () => {
  holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  takenPort = (holder.address() as { port: number }).port
})
afterAll(() => {
  holder.close()
  rmSync(dir, { recursive: true, force: true })
})

/** One line on stderr, no stack frames: what a person reads when the server cannot start. */
function expectOneCleanLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n')
  expect(lines, stderr).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(stderr).not.toMatch(/\n\s+at |unexpected error/)
}

describe('inferbench serve never hangs on a start-up failure', () => {
  it.each([
    ['a port in use (exit 1)', () => ['--model', good, '--http-port', String(takenPort), '--grpc-port', 'off'], 1,
      /--http-port: 127\.0\.0\.1:\d+ is already in use; .*--http-port 0 takes any free port/],
    ['a gRPC port in use, after HTTP started (exit 1)', () => ['--model', good, '--http-port', '0', '--grpc-port', String(takenPort)], 1,
      /--grpc-port: 127\.0\.0\.1:\d+ is already in use/],
    ['a port out of range (exit 2)', () => ['--model', good, '--http-port', '70000'], 2, /--http-port .*expected an integer from 0 to 65535, received '70000'/],
    ['two models with one name (exit 2)', () => ['--model', good, '--model', `${good}`, '--http-port', '0'], 2, /two models are named 'mlp'.*--model .*:<name>/],
    ['both front ends off (exit 2)', () => ['--model', good, '--http-port', 'off', '--grpc-port', 'off'], 2, /--http-port off and --grpc-port off leave nothing to serve on/],
    ['HTTP and gRPC on one port (exit 2)', () => ['--model', good, '--http-port', '18779', '--grpc-port', '18779'], 2, /--http-port and --grpc-port are both 18779/],
    ['a preferred batch above the max batch (exit 2)', () => ['--model', good, '--http-port', '0', '--max-batch', '8', '--preferred-batch', '4,16'], 2, /--preferred-batch 16 is larger than --max-batch 8/],
    ['an unknown --instance-thread (exit 2)', () => ['--model', good, '--http-port', '0', '--instance-thread', 'gpu'], 2, /--instance-thread: expected auto, main or worker, received 'gpu'/],
    ['several instances on the main thread (exit 2)', () => ['--model', good, '--http-port', '0', '--instances', '2', '--instance-thread', 'main'], 2, /--instance-thread main runs one instance; --instances 2 needs worker threads/],
    ['a bracketed IPv6 host (exit 1)', () => ['--model', good, '--http-port', '0', '--host', '[::1]'], 1, /--host: \[::1\] is not an address of this machine \(an IPv6 one is written without brackets/],
    ['an unknown --preprocess processor (exit 2)', () => ['--model', good, '--http-port', '0', '--preprocess', '{"type":"nope"}'], 2, /--preprocess: unknown processor 'nope'; registered: image, video, text/],
    ['a missing model file (exit 2)', () => ['--model', join(dir, 'nope.onnx'), '--http-port', '0'], 2, /no file .*nope\.onnx/],
    ['an empty model file (exit 2)', () => ['--model', join(dir, 'empty.onnx'), '--http-port', '0'], 2, /empty\.onnx is not an ONNX model: the file is empty/],
    ['a text file (exit 2)', () => ['--model', join(dir, 'text.onnx'), '--http-port', '0'], 2, /text\.onnx is not an ONNX model: it is a text file/],
    ['a truncated model (exit 2)', () => ['--model', join(dir, 'truncated.onnx'), '--http-port', '0'], 2, new RegExp(`truncated\\.onnx is not an ONNX model: truncated at byte ${goodBytes.length - 20}`)],
  ])('%s', async (_what, args, code, message) => {
    const result = await serveFailure(args())
    expect(result.code, result.stderr).toBe(code)
    expectOneCleanLine(result.stderr, message)
    expect(result.stdout).not.toMatch(/"event":"ready"/)
  })

  it("reaches a backend: 'server' job as its error: one line in the console, the stack only in the JSON report", async () => {
    const project = tempProject({
      'inferbench.config.ts': `export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, defaults: { warmup: false } }\n`,
      'broken.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('server on a text file', { model: model.file(${JSON.stringify(join(dir, 'text.onnx'))}), backend: 'server', workload: workload.closed({ requests: 10 }) })
`,
    })
    try {
      const result = await runCli(['--reporter', 'default', '--reporter', 'json', '--outputFile.json=out.json'], project.dir)
      expect(result.code, result.stdout + result.stderr).toBe(1)
      expect(result.stdout).toMatch(/INFERBENCH_BACKEND_FAILED: inferbench serve exited \(code 2\) before it was ready: inferbench: .*text\.onnx is not an ONNX model: it is a text file/)
      expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /)
      const job = JSON.parse(readFileSync(join(project.dir, 'out.json'), 'utf8')).jobs[0]
      expect(job).toMatchObject({ status: 'errored', error: { code: 'INFERBENCH_BACKEND_FAILED' } })
      expect(job.error.stack).toMatch(/\n\s+at /)
    } finally {
      project.cleanup()
    }
  })
})
