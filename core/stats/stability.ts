/** One measurement window: a request counts in the window in which it ends (perf_analyzer's rule). */
export interface WindowStat {
  startMs: number
  endMs: number
  requests: number
  requestsPerSec: number
  /** Open loop: arrivals the schedule put in this window, per second. */
  offeredPerSec?: number
  p50Ms: number
}

export interface Stability {
  stable: boolean
  /** Why not, in words, when unstable. */
  reason?: string
  windows: WindowStat[]
}

/**
 * perf_analyzer's acceptance rule: the last `count` windows agree within `tolerance`
 * (max/min <= 1 + tolerance) on throughput and on median latency. In an open loop the schedule
 * itself varies per window (Poisson), so throughput is taken relative to what was offered.
 */
export function assessStability(windows: WindowStat[], tolerance = 0.1, count = 3): Stability {
  if (windows.length < count) {
    return { stable: false, reason: `only ${windows.length} of the ${count} measurement windows needed were measured; run longer`, windows }
  }
  const last = windows.slice(-count)
  // A window without a single answer is a stall of the whole window: the worst instability, never skipped.
  const empty = last.map((w, i) => (w.requests === 0 ? windows.length - count + i + 1 : 0)).filter(Boolean)
  if (empty.length) {
    return {
      stable: false,
      reason: `window${empty.length > 1 ? 's' : ''} ${empty.join(', ')} of ${windows.length} had no answers (the backend stalled, or the run is too short for its windows); run longer, or look for the stall`,
      windows,
    }
  }
  const spread = (values: number[]) => Math.max(...values) / Math.max(Math.min(...values), Number.MIN_VALUE)
  const throughputSpread = spread(last.map((w) => (w.offeredPerSec ? w.requestsPerSec / w.offeredPerSec : w.requestsPerSec)))
  const p50Spread = spread(last.map((w) => w.p50Ms))
  const reasons: string[] = []
  const pct = (x: number) => `${((x - 1) * 100).toFixed(1)}%`
  if (throughputSpread > 1 + tolerance) reasons.push(`throughput varies ${pct(throughputSpread)} across the last ${count} windows`)
  if (p50Spread > 1 + tolerance) reasons.push(`p50 latency varies ${pct(p50Spread)} across the last ${count} windows`)
  if (reasons.length === 0) return { stable: true, windows }
  const fewest = Math.min(...last.map((w) => w.requests))
  return {
    stable: false,
    reason: `${reasons.join('; ')} (tolerance ${(tolerance * 100).toFixed(0)}%, ${fewest}+ answers per window); run longer, or look for interference`,
    windows,
  }
}
