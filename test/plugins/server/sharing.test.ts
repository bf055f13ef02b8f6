import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest'
import { sha256 } from '../../../core/hash.ts'
import { model } from '../../../core/model-ref.ts'
import { createRegistry, type BackendContext, type SharingSpec } from '../../../core/plugin.ts'
import { buildFc } from '../../../plugins/models/fc.ts'
import { serverBackend } from '../../../plugins/server/backend.ts'
import { jobSignals } from '../../helpers/job-signals.ts'
import { REPO_ROOT } from '../../helpers/temp-project.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-sharing-'))
const modelPath = join(dir, 'mlp.onnx')
const bytes = buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' })
writeFileSync(modelPath, bytes)
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const savedPath = process.env.PATH
afterEach(() => { process.env.PATH = savedPath })

const server = createRegistry([serverBackend()]).backend('server')
const ctx = (sharing: SharingSpec): BackendContext => ({
  ...jobSignals(), jobId: 'sharing', batch: 1, cacheDir: dir, params: {}, sharing,
  model: { name: 'mlp', path: modelPath, bytes, sha256: sha256(bytes), ref: model.file(modelPath) },
})
const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')

describe('GPU sharing (bench option sharing) on the server backend', () => {
  it('serves N copies in N processes, requests spread round-robin, all stopped at close', async () => {
    const b = await server(ctx({ instances: 2, mps: false }))
    try {
      const info = b.info!.server as { pids: number[]; addresses: string[] }
      expect(b.pids).toHaveLength(2)
      expect(new Set(b.pids).size).toBe(2)
      for (let i = 0; i < 10; i++) await b.infer()
      // Each copy answered half, by its own statistics; the backend's statistics are their sum.
      const perCopy = await Promise.all(info.addresses.map(async (address) => {
        const stats = await (await fetch(`${address}/v2/models/model/stats`)).json() as { model_stats: Array<{ inference_stats: { success: { count: number } } }> }
        return stats.model_stats[0]!.inference_stats.success.count
      }))
      expect(perCopy).toEqual([5, 5])
      expect((await b.statistics!())!.requests).toBe(10)
    } finally {
      await b.close()
    }
    for (const pid of b.pids!) expect(alive(pid)).toBe(false)
  }, 60_000)

  it('mps without a GPU: a clear error before any server or daemon starts', async () => {
    process.env.PATH = [join(dir, 'empty'), '/usr/bin', '/bin'].join(delimiter)
    const before = readdirSync(dir)
    await expect(server(ctx({ instances: 2, mps: true }))).rejects.toThrow(
      /sharing\.mps: cannot start the CUDA MPS control daemon: nvidia-smi is not installed: no NVIDIA GPU or driver here\. MPS needs an NVIDIA GPU/)
    expect(readdirSync(dir)).toEqual(before)
  })

  it('mps: starts the daemon with its own folders, the servers attach to them, quit at close (stand-in binaries)', async () => {
    const record = join(dir, 'mps-record.txt')
    process.env.PATH = [join(REPO_ROOT, 'fixtures/mps-stand-in'), savedPath].join(delimiter)
    process.env.MPS_RECORD = record
    try {
      const b = await server(ctx({ instances: 2, mps: true }))
      onTestFinished(() => b.close())
      const sharing = b.info!.sharing as { copies: number; mps: boolean; pipeDirectory: string }
      expect(sharing).toMatchObject({ copies: 2, mps: true })
      const started = readFileSync(record, 'utf8').trim().split('\n')
      expect(started).toEqual([`args=[-d] pipe=${sharing.pipeDirectory} log=${join(sharing.pipeDirectory, '../log')} stdin=[]`])
      for (const pid of b.pids!) expect(environ(pid)).toContain(`CUDA_MPS_PIPE_DIRECTORY=${sharing.pipeDirectory}`)
      await b.infer()
      await b.close()
      const lines = readFileSync(record, 'utf8').trim().split('\n')
      expect(lines[1]).toBe(`args=[] pipe=${sharing.pipeDirectory} log=${join(sharing.pipeDirectory, '../log')} stdin=[quit]`)
      expect(existsSync(sharing.pipeDirectory)).toBe(false)
    } finally {
      delete process.env.MPS_RECORD
    }
  }, 60_000)
})
