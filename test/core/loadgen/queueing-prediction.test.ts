import { Worker } from 'node:worker_threads'
import { afterAll, describe, expect, it } from 'vitest'
import { poissonArrivals } from '../../../core/loadgen/arrivals.ts'
import { runOpenLoop } from '../../../core/loadgen/open-loop.ts'
import { LoadRecorder } from '../../../core/loadgen/recorder.ts'
import { predictOpenLoop } from '../../../core/stats/queueing.ts'
import { InstanceQueue, exchange } from '../../../plugins/shared/workers/worker-exchange.ts'

/**
 * The open loop against backends whose service time is known exactly (a busy-wait of S ms), so
 * queueing theory says what it must measure: the same arrivals through the Lindley recursion.
 * What the instrument adds (timers, hand-off, bookkeeping) is the difference. Noise only adds
 * latency, so the lower bounds are tight: an instrument that hid queueing (latency from the
 * actual send, a dropped stall) lands far below the prediction. The upper bounds hold on a
 * loaded 2-core CI machine. Run alone in the test runner on the project's 2-core VM, the blocking
 * case lands at p50 x1.03-1.05 and p99 x1.06-1.55 of the prediction (p50 x1.06-1.09 before the
 * open loop re-planned on each hand-back, 2026-12-01); bench/self/ measures the real backend.
 */
const busy = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until) { /* the service */ }
}

async function measure(send: () => Promise<void>, arrivalsMs: Float64Array, blocksCaller: boolean) {
  const recorder = new LoadRecorder({ byTimeMs: 60_000 }, 1)
  await runOpenLoop({ send, arrivalsMs, maxOutstanding: 10_000, lateThresholdMs: 2, spinMs: 1, recorder, blocksCaller })
  return recorder
}

function ratios(measured: LoadRecorder, arrivalsMs: Float64Array, serviceMs: number, servers: number) {
  const predicted = predictOpenLoop(arrivalsMs, () => serviceMs, servers)
  const at = (p: number) => ({ measured: measured.histogram.getValueAtPercentile(p) / 1000, predicted: predicted.getValueAtPercentile(p) / 1000 })
  return { p50: at(50), p99: at(99) }
}

/**
 * Other test files share the 2 cores: interference only ever adds latency, so of up to three
 * runs the one closest to the prediction is what the instrument itself adds. Every run must
 * still respect the lower bounds.
 */
async function closest(runs: number, once: () => Promise<ReturnType<typeof ratios>>, good: (r: ReturnType<typeof ratios>) => boolean) {
  let best: ReturnType<typeof ratios> | undefined
  for (let i = 0; i < runs; i++) {
    const r = await once()
    expect(r.p50.measured).toBeGreaterThan(r.p50.predicted * 0.95)
    expect(r.p99.measured).toBeGreaterThan(r.p99.predicted * 0.9)
    if (!best || r.p50.measured / r.p50.predicted < best.p50.measured / best.p50.predicted) best = r
    if (good(r)) break
  }
  return best!
}

const workers: Worker[] = []
afterAll(() => Promise.all(workers.map((w) => w.terminate())))

describe('open loop against the queueing prediction', () => {
  it('the Lindley recursion gives the textbook M/D/1 figures', () => {
    // Mean wait of M/D/1 = rho * S / (2 (1 - rho)); at rho 0.5, S 2 ms: 1 ms, so mean latency 3 ms.
    const arrivals = poissonArrivals(250, 400_000, 11)
    const h = predictOpenLoop(arrivals, () => 2)
    expect(h.mean / 1000).toBeCloseTo(3, 1)
    // Two servers halve the load on each: far less waiting than one.
    expect(predictOpenLoop(arrivals, () => 2, 2).mean / 1000).toBeLessThan(2.2)
  })

  it('one instance on the generator\'s thread (a blocking backend): p50 and p99 agree with the prediction', { timeout: 20_000 }, async () => {
    const serviceMs = 1.5
    const arrivals = poissonArrivals(300, 2500, 3)
    const send = () => new Promise<void>((resolve) => setImmediate(() => { busy(serviceMs); resolve() }))
    const within = (r: ReturnType<typeof ratios>) => r.p50.measured < r.p50.predicted * 1.3 + 0.3 && r.p99.measured < r.p99.predicted * 3 + 5
    const r = await closest(3, async () => ratios(await measure(send, arrivals, true), arrivals, serviceMs, 1), within)
    console.log(`blocking instance: p50 ${r.p50.measured} ms vs ${r.p50.predicted} predicted, p99 ${r.p99.measured} vs ${r.p99.predicted}`)
    expect(r.p50.measured).toBeLessThan(r.p50.predicted * 1.3 + 0.3)
    expect(r.p99.measured).toBeLessThan(r.p99.predicted * 3 + 5)
  })

  it('two worker-thread instances: p50 and p99 agree with the two-server prediction', { timeout: 20_000 }, async () => {
    const serviceMs = 3
    // The workers sleep their service time (a busy-wait in two threads would leave the generator no core).
    const code = `const { parentPort } = require('node:worker_threads')
const cell = new Int32Array(new SharedArrayBuffer(4))
parentPort.on('message', (ms) => { Atomics.wait(cell, 0, 0, ms); parentPort.postMessage(0) })`
    const pair = [new Worker(code, { eval: true }), new Worker(code, { eval: true })]
    workers.push(...pair)
    // Started threads first: a worker still booting would stall the first requests.
    await Promise.all(pair.map((w) => exchange(w, 0)))
    const queue = new InstanceQueue(pair)
    const send = async () => {
      const worker = await queue.acquire()
      try { await exchange(worker, serviceMs) } finally { queue.release(worker) }
    }
    const arrivals = poissonArrivals(400, 2500, 5)
    const within = (r: ReturnType<typeof ratios>) => r.p50.measured < r.p50.predicted * 1.3 + 2 && r.p99.measured < r.p99.predicted * 3 + 5
    const r = await closest(3, async () => ratios(await measure(send, arrivals, false), arrivals, serviceMs, 2), within)
    console.log(`two workers: p50 ${r.p50.measured} ms vs ${r.p50.predicted} predicted, p99 ${r.p99.measured} vs ${r.p99.predicted}`)
    // The hand-off to a parked thread and back (~0.3 ms here) and the sleep's own overshoot.
    expect(r.p50.measured).toBeLessThan(r.p50.predicted * 1.3 + 2)
    expect(r.p99.measured).toBeLessThan(r.p99.predicted * 3 + 5)
  })
})
