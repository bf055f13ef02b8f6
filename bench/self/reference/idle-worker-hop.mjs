// The bare round trip to an idle worker thread and back, the two simplest ways: a message
// (postMessage, the worker waiting in its event loop) and shared memory (the worker parked in
// Atomics.wait, the main thread awaiting Atomics.waitAsync). Each hop follows an idle gap, so the
// worker has gone back to waiting, as a server's instance does between requests. The reference
// for the hop inside `inferbench serve --instance-thread worker`
// (bench/self/server-overhead.bench.ts); not for use.
import { Worker } from 'node:worker_threads'

const ECHO = `
const { parentPort, workerData } = require('node:worker_threads')
const shared = workerData
parentPort.on('message', (m) => {
  if (m !== 'atomics') return parentPort.postMessage(m)
  // Shared-memory mode until the main thread writes -1.
  let seen = 0
  for (;;) {
    Atomics.wait(shared, 0, seen)
    seen = Atomics.load(shared, 0)
    if (seen < 0) return parentPort.postMessage('done')
    Atomics.store(shared, 1, seen)
    Atomics.notify(shared, 1)
  }
})`

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** p50 of each kind of round trip in µs, `count` hops each, each after `gapMs` of idle time. */
export async function idleWorkerHops(count, gapMs) {
  const shared = new Int32Array(new SharedArrayBuffer(8))
  const messages = new Worker(ECHO, { eval: true, workerData: shared })
  const parked = new Worker(ECHO, { eval: true, workerData: shared })
  try {
    const reply = (worker) => new Promise((resolve) => worker.once('message', resolve))
    parked.postMessage('atomics')
    const viaMessage = []
    const viaAtomics = []
    // Alternated hop by hop (message, atomics | atomics, message | ...): drift favours neither.
    // The first hops (the workers starting, the code compiling) are not counted.
    const warm = 20
    for (let i = 1; i <= count + warm; i++) {
      for (const kind of i % 2 ? ['message', 'atomics'] : ['atomics', 'message']) {
        await sleep(gapMs)
        const started = performance.now()
        if (kind === 'message') {
          const answered = reply(messages)
          messages.postMessage(i)
          await answered
          if (i > warm) viaMessage.push((performance.now() - started) * 1000)
        } else {
          Atomics.store(shared, 0, i)
          Atomics.notify(shared, 0)
          const wait = Atomics.waitAsync(shared, 1, i - 1)
          if (wait.async) await wait.value
          if (i > warm) viaAtomics.push((performance.now() - started) * 1000)
        }
      }
    }
    const done = reply(parked)
    Atomics.store(shared, 0, -1)
    Atomics.notify(shared, 0)
    await done
    return { postMessageP50Us: median(viaMessage), atomicsP50Us: median(viaAtomics) }
  } finally {
    await Promise.all([messages.terminate(), parked.terminate()])
  }
}
