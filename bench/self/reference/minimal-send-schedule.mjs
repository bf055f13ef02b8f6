// The simplest correct open-loop scheduler: a timer to 1 ms before each intended time, then a
// spin to it (LoadGen's practice: sleep to absolute times), then `send` (not awaited). With
// nothing to send, how late it wakes is what this machine allows any generator on its main
// thread; with a plain client's send, what the simplest generator achieves. The reference for the
// load generator's send lateness (bench/self/loadgen-vs-autocannon.bench.ts); not for use.

/** Waits until `intended` (a performance.now() time): a timer to 1 ms before it, then a spin. */
export async function waitUntil(intended) {
  const early = intended - performance.now() - 1
  if (early > 0) await new Promise((resolve) => setTimeout(resolve, early))
  while (performance.now() < intended) { /* spin to the intended time */ }
}

/** Send delays in ms (woken − intended), one per arrival (ms after the start). */
export async function minimalSendSchedule(arrivalsMs, send = () => {}) {
  const delays = new Float64Array(arrivalsMs.length)
  const start = performance.now() + 5
  for (let i = 0; i < arrivalsMs.length; i++) {
    const intended = start + arrivalsMs[i]
    await waitUntil(intended)
    delays[i] = performance.now() - intended
    send()
  }
  return delays
}
