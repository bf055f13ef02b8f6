import type { InferAnswer } from '../plugin.ts'
import { createLatencyHistogram, type LatencyHistogram } from '../stats/histogram.ts'
import { medianConfidenceRanks, type WindowStat } from '../stats/stability.ts'

/** How answers are split into measurement windows: by elapsed time, or by count of answers. */
export type Windowing = { byTimeMs: number } | { byCount: number }

interface Window {
  histogram: LatencyHistogram
  requests: number
  lastEndMs: number
}

/**
 * Records one job's answers into HDR histograms (µs): one for the whole run and one per
 * measurement window (a request counts in the window in which it ends). The hot path is
 * `success()`: two histogram increments and a few counters, no allocation.
 */
export class LoadRecorder {
  readonly histogram = createLatencyHistogram()
  ok = 0
  errors = 0
  late = 0
  overflow = 0
  firstError: string | undefined
  serverQueueUs = 0
  serverComputeUs = 0
  serverTimedAnswers = 0
  /** Client-side queueing for a connection, summed over the answers that waited (µs). */
  clientQueueUs = 0
  clientQueuedAnswers = 0
  /** Pipeline stage times (µs) by stage, when answers carry them; created on the first such answer. */
  stages: Map<string, LatencyHistogram> | undefined
  /** Set by the driver: time origin of the measurement (performance.now()). */
  startMs = 0
  endMs = 0
  private readonly windows: Window[]

  /** Open loop with time windows: scheduled arrivals per window, to judge throughput against. */
  private scheduledPerWindow: number[] | undefined

  constructor(private readonly windowing: Windowing, windowCount: number) {
    this.windows = Array.from({ length: windowCount }, () => ({ histogram: createLatencyHistogram(), requests: 0, lastEndMs: 0 }))
  }

  /** Counts the schedule's arrivals per time window (open loop). */
  setSchedule(arrivalsMs: Float64Array): void {
    if (!('byTimeMs' in this.windowing)) return
    const counts = this.windows.map(() => 0)
    for (const t of arrivalsMs) counts[Math.min(counts.length - 1, Math.floor(t / this.windowing.byTimeMs))]!++
    this.scheduledPerWindow = counts
  }

  /** `latencyMs` from the intended send time (open loop) or the actual send (closed loop); `endMs` from performance.now(). */
  success(latencyMs: number, endMs: number, answer: InferAnswer | void): void {
    const us = latencyMs < 0.001 ? 1 : Math.round(latencyMs * 1000)
    this.histogram.recordValue(us)
    const window = this.windows[this.windowIndex(endMs)]!
    window.histogram.recordValue(us)
    window.requests++
    window.lastEndMs = endMs
    this.ok++
    if (answer?.clientQueueUs) {
      this.clientQueueUs += answer.clientQueueUs
      this.clientQueuedAnswers++
    }
    if (answer?.stages) this.recordStages(answer.stages)
    const timings = answer?.serverTimings
    if (timings) {
      this.serverTimedAnswers++
      this.serverQueueUs += timings.queueUs ?? 0
      this.serverComputeUs += timings.computeUs ?? 0
    }
  }

  private recordStages(stages: Record<string, number>): void {
    this.stages ??= new Map()
    for (const name in stages) {
      let histogram = this.stages.get(name)
      if (!histogram) this.stages.set(name, histogram = createLatencyHistogram())
      histogram.recordValue(Math.max(0, Math.round(stages[name]!)))
    }
  }

  error(error: unknown): void {
    this.errors++
    this.firstError ??= error instanceof Error ? error.message : String(error)
  }

  private windowIndex(endMs: number): number {
    const last = this.windows.length - 1
    const index = 'byTimeMs' in this.windowing
      ? Math.floor((endMs - this.startMs) / this.windowing.byTimeMs)
      : Math.floor(this.ok / this.windowing.byCount)
    return index > last ? last : index
  }

  /** Per-window throughput and median, for the stability verdict. */
  windowStats(): WindowStat[] {
    let previousEnd = this.startMs
    return this.windows.map((w, i) => {
      const start = 'byTimeMs' in this.windowing ? this.startMs + i * this.windowing.byTimeMs : previousEnd
      const end = 'byTimeMs' in this.windowing && i < this.windows.length - 1
        ? start + this.windowing.byTimeMs
        : Math.max(w.lastEndMs, start)
      previousEnd = end
      const seconds = (end - start) / 1000
      const scheduled = this.scheduledPerWindow?.[i]
      return {
        startMs: start - this.startMs,
        endMs: end - this.startMs,
        requests: w.requests,
        requestsPerSec: seconds > 0 ? w.requests / seconds : 0,
        ...(scheduled !== undefined && seconds > 0 ? { offeredPerSec: scheduled / seconds } : {}),
        p50Ms: w.requests > 0 ? w.histogram.getValueAtPercentile(50) / 1000 : 0,
        ...medianInterval(w),
      }
    })
  }
}

function medianInterval(w: Window): { p50LowMs?: number; p50HighMs?: number } {
  const n = w.histogram.totalCount
  if (n === 0) return {}
  const { low, high } = medianConfidenceRanks(n)
  return { p50LowMs: w.histogram.getValueAtPercentile((low / n) * 100) / 1000, p50HighMs: w.histogram.getValueAtPercentile((high / n) * 100) / 1000 }
}
