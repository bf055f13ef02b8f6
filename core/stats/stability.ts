/** One measurement window: a request counts in the window in which it ends (perf_analyzer's rule). */
export interface WindowStat {
  startMs: number
  endMs: number
  requests: number
  requestsPerSec: number
  /** Open loop: arrivals the schedule put in this window, per second. */
  offeredPerSec?: number
  p50Ms: number
  /**
   * 95% confidence interval of the window's median (order statistics): with a hundred answers
   * a median moves by several percent from sampling alone, so windows only disagree on p50 when
   * their intervals are further apart than the tolerance. Absent: the interval is the point.
   */
  p50LowMs?: number
  p50HighMs?: number
}

/** Ranks (1-based) bounding the median of n samples with 95% confidence (normal approximation to the binomial). */
export function medianConfidenceRanks(n: number): { low: number; high: number } {
  const half = 1.96 * Math.sqrt(n) / 2
  return { low: Math.max(1, Math.floor(n / 2 - half)), high: Math.min(n, Math.ceil(n / 2 + half + 1)) }
}

export interface Stability {
  stable: boolean
  /** Why not, in words, when unstable. */
  reason?: string
  windows: WindowStat[]
}

/**
 * perf_analyzer's acceptance rule: the last `count` windows agree within `tolerance`
 * (max/min <= 1 + tolerance) on throughput and on median latency. A window's median is known
 * only to within its confidence interval, so p50 disagrees when even the closest values those
 * intervals allow are further apart than the tolerance (a short window's sampling noise alone
 * is not instability; a stall or a drift is). In an open loop the schedule
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
  // The smallest disagreement the windows' medians are consistent with: highest lower bound
  // over lowest upper bound (the plain spread when windows carry no interval).
  const p50Spread = Math.max(1, Math.max(...last.map((w) => w.p50LowMs ?? w.p50Ms)) / Math.max(Math.min(...last.map((w) => w.p50HighMs ?? w.p50Ms)), Number.MIN_VALUE))
  const reasons: string[] = []
  const pct = (x: number) => `${((x - 1) * 100).toFixed(1)}%`
  if (throughputSpread > 1 + tolerance) reasons.push(`throughput varies ${pct(throughputSpread)} across the last ${count} windows`)
  if (p50Spread > 1 + tolerance) reasons.push(`p50 latency varies at least ${pct(p50Spread)} across the last ${count} windows (beyond sampling noise)`)
  if (reasons.length === 0) return { stable: true, windows }
  const fewest = Math.min(...last.map((w) => w.requests))
  return {
    stable: false,
    reason: `${reasons.join('; ')} (tolerance ${(tolerance * 100).toFixed(0)}%, ${fewest}+ answers per window); run longer, or look for interference`,
    windows,
  }
}
