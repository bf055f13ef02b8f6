// The simplest correct open loop on one onnxruntime session, on the main thread: wait for each
// intended send time (the scheduler of minimal-send-schedule.mjs), run, and count latency from
// the intended time, so a send held back by the run before it is charged its wait (no
// coordinated omission). The reference that inferbench's in-process open loop is measured
// against (bench/self/open-loop-prediction.bench.ts); not for use.
import { waitUntil } from './minimal-send-schedule.mjs'

/** Latencies in ms, one per arrival (ms after the start). */
export async function minimalOpenLoop(session, feeds, arrivalsMs) {
  const latencies = new Float64Array(arrivalsMs.length)
  const start = performance.now() + 5
  for (let i = 0; i < arrivalsMs.length; i++) {
    const intended = start + arrivalsMs[i]
    await waitUntil(intended)
    await session.run(feeds)
    latencies[i] = performance.now() - intended
  }
  return latencies
}
