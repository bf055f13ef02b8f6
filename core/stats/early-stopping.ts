/**
 * MLPerf LoadGen's early stopping (loadgen/early_stopping.cc, results.cc): how many queries a
 * run needs before a latency percentile can be claimed with 99% confidence, given how many
 * queries were over the latency. A query is "over" with probability 1 − p when the true p-th
 * percentile is within the bound; a run of h + t queries with t over passes when seeing at most
 * t over is that unlikely: P(Binomial(h + t, 1 − p) ≤ t) ≤ 1 − confidence.
 */

const CONFIDENCE = 0.99

/** P(X ≤ t) for X ~ Binomial(n, q): terms built one from the last in log space (no underflow at large n). */
export function binomialCdf(t: number, n: number, q: number): number {
  if (t >= n) return 1
  const ratio = Math.log(q) - Math.log1p(-q)
  let lnTerm = n * Math.log1p(-q) // x = 0: (1 − q)^n
  let max = lnTerm
  const terms = [lnTerm]
  for (let x = 0; x < t; x++) {
    lnTerm += Math.log(n - x) - Math.log(x + 1) + ratio
    terms.push(lnTerm)
    if (lnTerm > max) max = lnTerm
  }
  let sum = 0
  for (const term of terms) sum += Math.exp(term - max)
  return Math.min(1, Math.exp(max + Math.log(sum)))
}

/** The fewest queries under the latency (h) that, with `t` over it, claim the `percentile` (0.9, 0.99) at 99% confidence. */
export function minPassingQueries(t: number, percentile: number, confidence = CONFIDENCE): number {
  const q = 1 - percentile
  let low = 0
  let high = 1
  while (binomialCdf(t, high + t, q) > 1 - confidence) high *= 2
  while (low < high) {
    const h = Math.floor((low + high) / 2)
    if (binomialCdf(t, h + t, q) <= 1 - confidence) high = h
    else low = h + 1
  }
  return low
}

export interface PercentileEstimate {
  /** Queries needed before any estimate exists (LoadGen: "Need to process at least N queries"). */
  minQueries: number
  /** How many of the slowest queries the estimate may discard (t − 1 in LoadGen's words); undefined when too few queries. */
  discarded?: number
  /** The rank (1-based, from the fastest) whose latency is the early-stopping estimate of the percentile. */
  rank?: number
}

/**
 * SingleStream and MultiStream: the largest t such that n queries still pass with t over; the
 * estimate is the latency of the t-th slowest query (LoadGen's sample_latencies[n − t]).
 */
export function earlyStoppingRank(n: number, percentile: number): PercentileEstimate {
  const minQueries = minPassingQueries(1, percentile) + 1
  if (n < minQueries) return { minQueries }
  // Passing with t over needs more queries the larger t is: bisect for the largest t that n allows.
  let low = 1
  let high = n
  while (low < high) {
    const t = Math.ceil((low + high) / 2)
    if (minPassingQueries(t, percentile) + t <= n) low = t
    else high = t - 1
  }
  return { minQueries, discarded: low - 1, rank: n - low + 1 }
}

/** Server: with `over` queries above the latency bound, whether n queries are enough, and how many more would be. */
export function serverEarlyStopping(n: number, over: number, percentile: number): { passed: boolean; needed: number } {
  const needed = minPassingQueries(over, percentile) + over
  return { passed: n >= needed, needed }
}
