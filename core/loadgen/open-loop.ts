import type { InferAnswer } from '../plugin.ts'
import { createLatencyHistogram } from '../stats/histogram.ts'
import type { LoadRecorder } from './recorder.ts'

export interface OpenLoopOptions {
  send: () => Promise<InferAnswer | void>
  /** Intended send times, ms from the start, ascending. */
  arrivalsMs: Float64Array
  maxOutstanding: number
  lateThresholdMs: number
  /** Wake this long before a send and busy-wait the rest (0: plain timers, ~1 ms precision). */
  spinMs: number
  recorder: LoadRecorder
  signal?: AbortSignal
  /** The backend runs on this thread (see Backend.blocksCaller): lateness counts from the end of the run that held a send back. */
  blocksCaller?: boolean
}

export interface OpenLoopResult {
  scheduled: number
  sent: number
  /** How late sends left against their intended time, µs. */
  sendDelay: ReturnType<typeof createLatencyHistogram>
}

/**
 * Sends each request at its absolute intended time, whatever happened to earlier ones, and
 * measures latency from that intended time: a stalled backend shows up in the latency of every
 * request that should have been sent meanwhile (no coordinated omission).
 */
export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { send, arrivalsMs, recorder, maxOutstanding, lateThresholdMs, spinMs, signal, blocksCaller = false } = options
  const sendDelay = createLatencyHistogram()
  const start = performance.now()
  recorder.startMs = start
  let next = 0
  let outstanding = 0
  let sent = 0
  let finished = false
  // When the thread was last handed back by a blocking backend (ms from the start).
  let freedAt = 0

  return new Promise((resolve) => {
    let done = false
    let timer: NodeJS.Timeout | undefined
    let immediate: NodeJS.Immediate | undefined
    const finish = () => {
      if (done) return
      done = true
      clearTimeout(timer)
      clearImmediate(immediate)
      signal?.removeEventListener('abort', onAbort)
      recorder.endMs = performance.now()
      resolve({ scheduled: arrivalsMs.length, sent, sendDelay })
    }
    // An aborted job (timeout, Ctrl-C, a dead backend) stops at once: answers still outstanding
    // are not waited for, and any that arrive later are not recorded.
    const onAbort = () => finish()
    signal?.addEventListener('abort', onAbort, { once: true })
    const settle = (at: number) => {
      outstanding--
      if (blocksCaller) freedAt = at
      if (finished && outstanding === 0) finish()
      else if (!done && !finished && (blocksCaller || outstanding === 0)) replan()
    }
    const dispatch = (intended: number) => {
      outstanding++
      sent++
      // A plugin's send that throws, or hands back a thenable that calls back at once, still
      // settles later and as an error or answer: a re-plan from inside pump would start a second one.
      let answered: Promise<InferAnswer | void>
      try {
        answered = Promise.resolve(send())
      } catch (error) {
        answered = Promise.reject(error)
      }
      answered.then(
        (answer) => {
          if (done) return
          const end = performance.now()
          recorder.success(end - start - intended, end, answer)
          settle(end - start)
        },
        (error: unknown) => {
          if (done) return
          recorder.error(error)
          settle(performance.now() - start)
        },
      )
    }
    // The wait for the next send was planned with an answer owed. Once a blocking backend gives the
    // thread back, or the last answer is in, it is planned again: a send that fell due meanwhile
    // goes now, not a turn later when the pending timer or spin step would fire (the simplest
    // loop sends it at once), and, once nothing is in flight, one still ahead gets the wait for
    // an idle thread (below).
    const replan = () => {
      clearTimeout(timer)
      clearImmediate(immediate)
      pump()
    }
    const pump = () => {
      if (done) return
      let now = performance.now() - start
      while (next < arrivalsMs.length && arrivalsMs[next]! <= now) {
        const intended = arrivalsMs[next++]!
        if (outstanding >= maxOutstanding) {
          recorder.overflow++
        } else {
          const delay = now - (freedAt > intended ? freedAt : intended)
          sendDelay.recordValue(Math.round(delay * 1000))
          if (delay > lateThresholdMs) recorder.late++
          dispatch(intended)
        }
        now = performance.now() - start
      }
      if (next >= arrivalsMs.length || signal?.aborted) {
        finished = true
        if (outstanding === 0) finish()
        return
      }
      const wait = arrivalsMs[next]! - now
      // Node runs timers on whole milliseconds of a cached clock: one asked for 0.3 ms fires
      // after 1-2 ms, past the send it was meant to precede. With nothing in flight a longer spin
      // costs no one a core, so the timer then sleeps whole milliseconds only and the rest is
      // spun (at 1,000 req/s: send delay p99 0.24-0.44 ms against 0.58-1.02, for 0.80-0.81 cores
      // against 0.56). With answers owed, the workers or the server need the cores: there a
      // longer spin cost more than it saved (two worker instances, test/core/loadgen: p50
      // 4.3-4.5 -> 5.3-5.6 ms).
      const sleepMs = outstanding === 0 && spinMs > 0 ? Math.floor(wait - spinMs) : wait - spinMs
      if (sleepMs > 0) {
        timer = setTimeout(pump, sleepMs)
        return
      }
      immediate = setImmediate(pump)
    }
    if (signal?.aborted) finish()
    else pump()
  })
}
