import type { InferAnswer } from '../plugin.ts'
import type { LoadRecorder } from './recorder.ts'

export interface ClosedLoopOptions {
  send: () => Promise<InferAnswer | void>
  concurrency: number
  /** Stop sending after this long; requests in flight still complete and count. */
  durationMs?: number
  /**
   * Stop after this many answered requests (failed ones are sent again, so errors do not shorten
   * the measurement; a backend that fails this many times in all ends it).
   */
  requests?: number
  /** Safety bound for request-count runs: stop sending after this long regardless. */
  maxDurationMs: number
  recorder: LoadRecorder
  signal?: AbortSignal
}

/**
 * `concurrency` clients, each sending its next request as soon as its previous one answered.
 * Latency is measured from the actual send: in a closed loop a slow answer delays the next send,
 * so this mode measures capacity, not latency under an arrival rate (use an open loop for that).
 */
export async function runClosedLoop(options: ClosedLoopOptions): Promise<void> {
  const { send, recorder, signal } = options
  const start = performance.now()
  recorder.startMs = start
  const deadline = start + Math.min(options.durationMs ?? Infinity, options.maxDurationMs)
  const limit = options.requests ?? Infinity
  let inFlight = 0
  let answered = 0
  let failed = 0
  let done = false

  // A backend that answers without waiting on I/O resolves in a microtask: without a turn of the
  // event loop now and then, no timer, signal or Ctrl-C could reach the job (about every 5 ms).
  let yieldedAt = start
  async function client(): Promise<void> {
    while (answered + inFlight < limit && failed < limit && !done) {
      const sentAt = performance.now()
      if (sentAt >= deadline) return
      if (sentAt - yieldedAt > 5) {
        yieldedAt = sentAt
        await new Promise<void>((resolve) => setImmediate(resolve))
        if (done) return
        continue
      }
      inFlight++
      try {
        const answer = await send()
        inFlight--
        if (done) return
        const end = performance.now()
        answered++
        recorder.success(end - sentAt, end, answer)
      } catch (error) {
        inFlight--
        if (done) return
        failed++
        recorder.error(error)
      }
    }
  }

  // An aborted job (timeout, Ctrl-C, a dead backend) stops at once: requests in flight are not
  // waited for (a hung backend may never answer them), and later answers are not recorded.
  let onAbort: (() => void) | undefined
  const aborted = new Promise<void>((resolve) => {
    onAbort = () => resolve()
    if (signal?.aborted) resolve()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
  await Promise.race([Promise.all(Array.from({ length: options.concurrency }, client)), aborted])
  done = true
  if (onAbort) signal?.removeEventListener('abort', onAbort)
  recorder.endMs = performance.now()
}
