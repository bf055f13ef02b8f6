import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFc } from '../../plugins/models/fc.ts'
import { WorkerSessionPool } from '../../plugins/onnxruntime/worker-pool.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a session worker thread that dies is noticed', () => {
  it('reports how it ended, at once; close() still returns; closing is not a death', async () => {
    const path = join(dir, 'mlp.onnx')
    writeFileSync(path, buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
    const inputs = [{ name: 'input', type: 'float32', declared: ['N', 4], shape: [1, 4], data: new Float32Array(4) }]
    const deaths: Error[] = []
    const pool = await WorkerSessionPool.start(path, { intraOpNumThreads: 1 }, inputs, 2, (error) => deaths.push(error))
    await pool.run()
    // The thread ends without being asked to, as a native crash or an uncaught error would end it.
    const [victim] = (pool as unknown as { workers: Worker[] }).workers
    const killedAt = performance.now()
    await victim!.terminate()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(deaths).toHaveLength(1)
    expect(deaths[0]!.message).toMatch(/^onnxruntime worker thread exited \(code 1\)/)
    expect(performance.now() - killedAt).toBeLessThan(1000)
    await pool.close()
    expect(deaths).toHaveLength(1)
  })
})
