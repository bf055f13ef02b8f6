// The simplest correct open loop on one onnxruntime session, on the main thread: wait for each
// intended send time (a timer to 1 ms before it, then a spin), run, and count latency from the
// intended time, so a send held back by the run before it is charged its wait (no coordinated
// omission). The reference that inferbench's in-process open loop is measured against
// (bench/self/open-loop-prediction.bench.ts); not for use.

/** Latencies in ms, one per arrival (ms after the start). */
export async function minimalOpenLoop(session, feeds, arrivalsMs) {
  const latencies = new Float64Array(arrivalsMs.length)
  const start = performance.now() + 5
  for (let i = 0; i < arrivalsMs.length; i++) {
    const intended = start + arrivalsMs[i]
    const early = intended - performance.now() - 1
    if (early > 0) await new Promise((resolve) => setTimeout(resolve, early))
    while (performance.now() < intended) { /* spin to the intended time */ }
    await session.run(feeds)
    latencies[i] = performance.now() - intended
  }
  return latencies
}
