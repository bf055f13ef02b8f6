import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFc } from '../../plugins/models/fc.ts'
import { CLI } from '../helpers/temp-project.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-orphan-'))
const modelPath = join(dir, 'mlp.onnx')
writeFileSync(modelPath, buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')

describe('a server started by a benchmark', () => {
  it('stops by itself when the process that started it is SIGKILLed', async () => {
    // A parent like the server backend: spawns inferbench serve with its own pid in INFERBENCH_PARENT_PID.
    const parent = spawn(process.execPath, ['-e', `
      const { spawn } = require('node:child_process')
      const child = spawn(process.execPath, [${JSON.stringify(CLI)}, 'serve', '--quiet', '--model', ${JSON.stringify(modelPath)}, '--http-port', '0', '--grpc-port', 'off'],
        { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, INFERBENCH_PARENT_PID: String(process.pid) } })
      child.stdout.pipe(process.stdout)
      setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
    const serverPid = await new Promise<number>((resolve, reject) => {
      let out = ''
      parent.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'))
        if (line) resolve((JSON.parse(line) as { pid: number }).pid)
      })
      parent.once('exit', () => reject(new Error('the parent exited before the server was ready')))
    })
    expect(alive(serverPid)).toBe(true)
    parent.kill('SIGKILL')
    const deadline = performance.now() + 10_000
    while (alive(serverPid) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const left = alive(serverPid)
    if (left) process.kill(serverPid, 'SIGKILL')
    expect(left, 'the orphaned server was still running 10 s after its parent died').toBe(false)
  }, 30_000)
})
