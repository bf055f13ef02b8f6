import { describe, expect, it } from 'vitest'
import { constantArrivals } from '../../../core/loadgen/arrivals.ts'
import { runClosedLoop } from '../../../core/loadgen/closed-loop.ts'
import { runOpenLoop } from '../../../core/loadgen/open-loop.ts'
import { LoadRecorder } from '../../../core/loadgen/recorder.ts'
import { summarizeHistogram } from '../../../core/stats/histogram.ts'

/**
 * A single-threaded "server": requests are served one at a time, ~1 ms each, except one that
 * stalls for `stallMs`. The requests queued behind the stall are what coordinated omission hides.
 */
function serialServer(stallAt: number, stallMs: number) {
  let tail = Promise.resolve()
  let served = 0
  return () => {
    const mine = tail.then(() => new Promise<void>((r) => setTimeout(r, served++ === stallAt ? stallMs : 1)))
    tail = mine
    return mine
  }
}

describe('coordinated omission', () => {
  it('a backend that stalls once raises the open-loop p99, not the closed-loop p99', async () => {
    const stallMs = 300
    const closedRecorder = new LoadRecorder({ byCount: 1000 }, 1)
    await runClosedLoop({ send: serialServer(20, stallMs), concurrency: 1, requests: 400, maxDurationMs: 10_000, recorder: closedRecorder })
    const closed = summarizeHistogram(closedRecorder.histogram)

    const openRecorder = new LoadRecorder({ byTimeMs: 10_000 }, 1)
    await runOpenLoop({
      send: serialServer(20, stallMs), arrivalsMs: constantArrivals(200, 2000), maxOutstanding: 1000,
      lateThresholdMs: 2, spinMs: 1, recorder: openRecorder,
    })
    const open = summarizeHistogram(openRecorder.histogram)

    // Closed loop: one slow sample among 400; the client simply waited, so p99 stays near the service time.
    expect(closedRecorder.ok).toBe(400)
    expect(closed.max).toBeGreaterThan(stallMs * 0.95)
    expect(closed.p99).toBeLessThan(20)
    // Open loop: the ~60 requests due during the stall all wait behind it, measured from their intended times.
    expect(openRecorder.ok).toBe(400)
    expect(open.p99).toBeGreaterThan(stallMs / 2)
    expect(open.p90).toBeGreaterThan(closed.p90 * 5)
  })

  it('counts overflow beyond maxOutstanding instead of sending, and errors apart from latencies', async () => {
    const recorder = new LoadRecorder({ byTimeMs: 10_000 }, 1)
    let n = 0
    const result = await runOpenLoop({
      send: () => (n++ % 2 === 0 ? new Promise<void>((r) => setTimeout(r, 200)) : Promise.reject(new Error('boom'))),
      arrivalsMs: constantArrivals(100, 500), maxOutstanding: 5, lateThresholdMs: 2, spinMs: 1, recorder,
    })
    expect(result.scheduled).toBe(50)
    expect(recorder.overflow).toBeGreaterThan(0)
    expect(recorder.ok + recorder.errors + recorder.overflow).toBe(50)
    expect(recorder.errors).toBeGreaterThan(0)
    expect(recorder.firstError).toBe('boom')
    expect(recorder.histogram.totalCount).toBe(recorder.ok)
  })
})

describe('closed loop with a request count', () => {
  it('counts answers, not sends: failed requests are sent again', async () => {
    let calls = 0
    const flaky = () => new Promise<void>((resolve, reject) => setImmediate(() => (++calls % 3 === 0 ? reject(new Error('flaky')) : resolve())))
    const recorder = new LoadRecorder({ byCount: 10 }, 5)
    await runClosedLoop({ send: flaky, concurrency: 4, requests: 50, maxDurationMs: 10_000, recorder })
    expect(recorder.ok).toBe(50)
    expect(recorder.errors).toBe(calls - 50)
    expect(recorder.errors).toBeGreaterThan(15)
  })

  it('ends when the backend fails as many times as answers were asked for', async () => {
    const recorder = new LoadRecorder({ byCount: 10 }, 5)
    await runClosedLoop({ send: () => Promise.reject(new Error('down')), concurrency: 2, requests: 20, maxDurationMs: 10_000, recorder })
    expect(recorder.ok).toBe(0)
    expect(recorder.errors).toBeGreaterThanOrEqual(20)
    expect(recorder.errors).toBeLessThanOrEqual(21)
  })

  it('a backend on the generator\'s thread holds sends back like a queue: latency keeps counting from the intended time, lateness only from the end of the run', async () => {
    // Like onnxruntime on the main thread: each run blocks the thread for 3 ms, arrivals every 2 ms.
    const blocking = () => new Promise<void>((resolve) => setImmediate(() => {
      const until = performance.now() + 3
      while (performance.now() < until) { /* the run */ }
      resolve()
    }))
    const run = async (blocksCaller: boolean) => {
      const recorder = new LoadRecorder({ byTimeMs: 10_000 }, 1)
      await runOpenLoop({ send: blocking, arrivalsMs: constantArrivals(500, 300), maxOutstanding: 1000, lateThresholdMs: 2, spinMs: 1, recorder, blocksCaller })
      return { late: recorder.late, p99: summarizeHistogram(recorder.histogram).p99, ok: recorder.ok }
    }
    const declared = await run(true)
    const undeclared = await run(false)
    expect(declared.ok).toBe(150)
    // The queue grows by 1 ms per request: the last waits ~150 ms, measured from when it was due.
    expect(declared.p99).toBeGreaterThan(100)
    expect(declared.late).toBeLessThanOrEqual(3)
    // Without the declaration the same held-back sends are the generator's lateness.
    expect(undeclared.late).toBeGreaterThan(100)
  })

  it('a backend that answers without waiting on I/O still lets timers and aborts through', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('stop')), 100)
    const recorder = new LoadRecorder({ byTimeMs: 10_000 }, 1)
    const started = performance.now()
    await runClosedLoop({ send: async () => {}, concurrency: 2, durationMs: 10_000, maxDurationMs: 10_000, recorder, signal: controller.signal })
    // Before, the microtask-only loop starved the timer and ran the whole 10 s.
    expect(performance.now() - started).toBeLessThan(1000)
    expect(recorder.ok).toBeGreaterThan(100)
  })
})
