import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildFc } from '../../../plugins/models/fc.ts'
import { Scheduler } from '../../../plugins/server/scheduler.ts'
import { ServedModel, type InputTensor } from '../../../plugins/server/served-model.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-scheduler-'))
const path = join(dir, 'mlp.onnx')
writeFileSync(path, buildFc({ layers: 1, width: 8, inputDim: 4, outputDim: 2, activation: 'relu' }))
// ~4.4 M weights: tens of ms for 256 rows on one thread.
const slowPath = join(dir, 'slow.onnx')
writeFileSync(slowPath, buildFc({ layers: 4, width: 1024, inputDim: 256, outputDim: 1000, activation: 'relu' }))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const request = (rows: number): InputTensor[] => [{ name: 'input', datatype: 'FP32', shape: [rows, 4], data: new Float32Array(rows * 4).fill(rows) }]

describe('dynamic batching scheduler', () => {
  it.each(['worker', 'main'] as const)('dispatches at once when a preferred size or the maximum is reached, without waiting out the delay (%s thread)', async (thread) => {
    const model = await ServedModel.load(path, 'mlp', 1, {}, thread)
    const scheduler = new Scheduler(model, { maxBatch: 8, maxQueueDelayUs: 10_000_000, preferredBatch: [4] })
    const started = performance.now()
    const preferred = await Promise.all([1, 1, 1, 1].map((r) => scheduler.infer(request(r), r)))
    expect(preferred.map((p) => p.batchRows)).toEqual([4, 4, 4, 4])
    const full = await Promise.all([3, 3, 2].map((r) => scheduler.infer(request(r), r)))
    expect(full.map((p) => p.batchRows)).toEqual([8, 8, 8])
    // Each caller gets back exactly its own rows.
    expect(full.map((p) => p.outputs[0]!.shape)).toEqual([[3, 2], [3, 2], [2, 2]])
    expect(performance.now() - started).toBeLessThan(5000)
    await model.release()
  })

  it('tries every preferred size, largest first, when the queued rows cannot make up the largest', async () => {
    const model = await ServedModel.load(path, 'mlp', 1)
    const scheduler = new Scheduler(model, { maxBatch: 16, maxQueueDelayUs: 200_000, preferredBatch: [8, 6] })
    // The first request fills a preferred size and occupies the one instance; three of 3 rows
    // queue meanwhile: 9 rows cannot make 8 from whole requests, but 6 they can, at once.
    const started = performance.now()
    const results = await Promise.all([8, 3, 3, 3].map((r) => scheduler.infer(request(r), r).then((p) => ({ rows: p.batchRows, at: performance.now() - started }))))
    expect(results.map((r) => r.rows)).toEqual([8, 6, 6, 3])
    // The 6 went without waiting out the 200 ms delay; the last 3 waited for it.
    expect(results[1]!.at).toBeLessThan(150)
    expect(results[3]!.at).toBeGreaterThanOrEqual(190)
    await model.release()
  })

  it('waits at most the queue delay for a batch to fill, then dispatches what it has', async () => {
    const model = await ServedModel.load(path, 'mlp', 1)
    const scheduler = new Scheduler(model, { maxBatch: 64, maxQueueDelayUs: 50_000, preferredBatch: [] })
    const started = performance.now()
    const [a, b] = await Promise.all([scheduler.infer(request(2), 2), scheduler.infer(request(3), 3)])
    expect(performance.now() - started).toBeGreaterThanOrEqual(45)
    expect([a!.batchRows, b!.batchRows]).toEqual([5, 5])
    expect(a!.queueNs).toBeGreaterThan(40e6)
    const stats = model.stats.snapshot()
    expect(stats).toMatchObject({ execution_count: 1, inference_count: 5, batch_stats: [{ batch_size: 5 }] })
    await model.release()
  })

  it('without batching runs requests one by one in arrival order', async () => {
    const model = await ServedModel.load(path, 'mlp', 1)
    const scheduler = new Scheduler(model)
    const results = await Promise.all([1, 2, 3].map((r) => scheduler.infer(request(r), r)))
    expect(results.map((r) => r.batchRows)).toEqual([1, 2, 3])
    expect(model.stats.snapshot().execution_count).toBe(3)
    await scheduler.idle()
    await model.release()
  })

  it('a main-thread instance without batching runs requests in arrival order and books the wait for earlier runs as queue', async () => {
    const model = await ServedModel.load(path, 'mlp', 1, {}, 'main')
    const scheduler = new Scheduler(model)
    const results = await Promise.all([1, 2, 3].map((r) => scheduler.infer(request(r), r)))
    expect(results.map((r) => r.outputs[0]!.shape)).toEqual([[1, 2], [2, 2], [3, 2]])
    expect(model.stats.snapshot().execution_count).toBe(3)
    // Each later request started when the one before ended: its queue covers that run.
    expect(results[2]!.queueNs).toBeGreaterThanOrEqual(results[1]!.computeNs * 0.5)
    expect(results[2]!.queueNs).toBeGreaterThan(results[0]!.queueNs)
    await scheduler.idle()
    await model.release()
  })

  it.each(['worker', 'main'] as const)('without batching answers in arrival order, and idle() waits for a run that went straight to the model (%s thread)', async (thread) => {
    const model = await ServedModel.load(path, 'mlp', 1, {}, thread)
    const scheduler = new Scheduler(model)
    const answered: number[] = []
    // The first requests go straight to the instance, the rest wait in the queue behind them.
    await Promise.all([1, 2, 3, 4, 5].map((rows, i) => scheduler.infer(request(rows), rows).then(() => answered.push(i))))
    expect(answered).toEqual([0, 1, 2, 3, 4])
    const before = model.stats.snapshot().execution_count
    const run = scheduler.infer(request(1), 1)
    await scheduler.idle()
    expect(model.stats.snapshot().execution_count).toBe(before + 1)
    expect(model.idleInstances).toBe(1)
    await run
    await model.release()
  })

  it('a main-thread session takes more than two runs only while the rows it has are expected to end within a few ms, and 16 at most', async () => {
    const fast = await ServedModel.load(path, 'mlp', 1, {}, 'main')
    // A fresh session's first run is slow (its allocations); the moving average forgets it.
    for (let i = 0; i < 20; i++) await fast.run(request(1))
    // Runs of microseconds: six handed over at once still leave room (they go back to back)...
    const quick = Array.from({ length: 6 }, () => fast.run(request(1)))
    expect(fast.canTakeAnother(1)).toBe(true)
    // ...but not for a request of a million rows, whatever its count of runs.
    expect(fast.canTakeAnother(1_000_000)).toBe(false)
    quick.push(...Array.from({ length: 10 }, () => fast.run(request(1))))
    expect(fast.canTakeAnother(1)).toBe(false)
    await Promise.all(quick)
    await fast.release()

    // Tens of ms per run on one thread: a drain's timer or a health check must not wait for more than two.
    const slow = await ServedModel.load(slowPath, 'slow', 1, { intraOpNumThreads: 1 }, 'main')
    const big = (): InputTensor[] => [{ name: 'input', datatype: 'FP32', shape: [256, 256], data: new Float32Array(256 * 256).fill(0.5) }]
    const unmeasured = [slow.run(big()), slow.run(big())]
    expect(slow.canTakeAnother(256)).toBe(false)
    const times = await Promise.all(unmeasured)
    const measured = [slow.run(big()), slow.run(big())]
    expect(slow.canTakeAnother(1), `runs of ${times.map((t) => (t.inferNs / 1e6).toFixed(1)).join(', ')} ms`).toBe(false)
    await Promise.all(measured)
    await slow.release()
  })

  it('a main-thread run books what the event loop did between the hand-over and the run (parsing the rest of a burst) as queue, not compute', async () => {
    const model = await ServedModel.load(path, 'mlp', 1, {}, 'main')
    for (let i = 0; i < 5; i++) await model.run(request(1))
    const pending = model.run(request(1))
    // The event loop busy for 30 ms after the hand-over, as when a burst's other requests are parsed.
    const busyUntil = performance.now() + 30
    while (performance.now() < busyUntil) { /* busy */ }
    const run = await pending
    expect(run.waitedNs).toBeGreaterThan(25e6)
    expect(run.inferNs).toBeLessThan(10e6)
    await model.release()
  })

  it('refuses several instances on the main thread', async () => {
    await expect(ServedModel.load(path, 'mlp', 2, {}, 'main')).rejects.toThrow(/2 instances cannot share the main thread/)
  })
})
