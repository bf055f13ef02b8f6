import { InferbenchError } from '../errors.ts'
import { exponential, seededRng } from '../rng.ts'
import type { Order, Placement, Policy } from './policies.ts'

/** A job stream: arrival times, true durations and the estimates the scheduler sees (seconds). */
export interface JobStream {
  arrival: Float64Array
  duration: Float64Array
  estimate: Float64Array
}

export interface PolicyResult {
  meanJct: number
  p50Jct: number
  p95Jct: number
  makespan: number
  /** Mean JCT of rr-fcfs over this policy's (1 for rr-fcfs itself). */
  speedup: number
}

/**
 * Replays a job stream through one policy on `workers` workers, each running one job at a time.
 * Returns every job's completion time minus its arrival (JCT), in the stream's order.
 *
 * Event order: at equal times, a worker freeing comes before an arrival (the arriving job sees
 * the freed worker), and workers freeing together go in index order. Tier 1 places each arrival
 * (rr / lb / qa, ties to the lowest index), a job placed on an idle worker starts at once, and a
 * freed worker takes its next job by tier 2 (fcfs / sjf). Runs in O(jobs × (log jobs + workers))
 * for lb and qa (a scan of typed arrays per arrival), O(jobs × log jobs) for rr. Its placement and
 * heap order are the rules of policies.ts on typed arrays, for speed; a test replays random streams
 * through policies.ts's own functions and demands the same completion times.
 */
export function simulate(stream: JobStream, workers: number, policy: Pick<Policy, 'placement' | 'order'>): Float64Array {
  const n = stream.arrival.length
  if (!Number.isInteger(workers) || workers < 1) throw new InferbenchError('INFERBENCH_USAGE', `workers: expected a positive integer, received ${workers}`)
  const order = sortedByArrival(stream.arrival)
  const { arrival, duration, estimate } = stream
  const jct = new Float64Array(n)
  const jobs = new Int32Array(workers)
  const queuedSeconds = new Float64Array(workers)
  const estimatedEnd = new Float64Array(workers).fill(Number.NEGATIVE_INFINITY)
  const running = new Int32Array(workers).fill(-1)
  const queues: JobHeap[] = Array.from({ length: workers }, () => new JobHeap(policy.order, arrival, estimate))
  const finishing = new FinishHeap(workers)

  const start = (w: number, job: number, now: number) => {
    running[w] = job
    estimatedEnd[w] = now + estimate[job]!
    finishing.push(now + duration[job]!, w)
  }
  let next = 0
  while (next < n || finishing.size > 0) {
    const arrivalAt = next < n ? arrival[order[next]!]! : Number.POSITIVE_INFINITY
    if (finishing.size > 0 && finishing.topTime() <= arrivalAt) {
      const now = finishing.topTime()
      const w = finishing.pop()
      const done = running[w]!
      jct[done] = now - arrival[done]!
      jobs[w]!--
      running[w] = -1
      estimatedEnd[w] = Number.NEGATIVE_INFINITY
      if (queues[w]!.size > 0) {
        const job = queues[w]!.pop()
        queuedSeconds[w]! -= estimate[job]!
        start(w, job, now)
      }
      continue
    }
    const job = order[next]!
    const now = arrivalAt
    const w = place(policy.placement, next, now, jobs, queuedSeconds, estimatedEnd)
    next++
    jobs[w]!++
    if (running[w] === -1) start(w, job, now)
    else {
      queues[w]!.push(job)
      queuedSeconds[w]! += estimate[job]!
    }
  }
  return jct
}

function place(placement: Placement, placed: number, now: number, jobs: Int32Array, queued: Float64Array, end: Float64Array): number {
  const k = jobs.length
  if (placement === 'rr') return placed % k
  let best = 0
  if (placement === 'lb') {
    let bestKey = jobs[0]!
    for (let i = 1; i < k; i++) if (jobs[i]! < bestKey) { best = i; bestKey = jobs[i]! }
    return best
  }
  let bestKey = queued[0]! + Math.max(0, end[0]! - now)
  for (let i = 1; i < k; i++) {
    const key = queued[i]! + Math.max(0, end[i]! - now)
    if (key < bestKey) { best = i; bestKey = key }
  }
  return best
}

/** Indices by arrival time, submission order kept among equal arrivals. */
function sortedByArrival(arrival: Float64Array): Int32Array {
  const idx = new Int32Array(arrival.length)
  for (let i = 0; i < idx.length; i++) idx[i] = i
  let sorted = true
  for (let i = 1; i < arrival.length && sorted; i++) if (arrival[i]! < arrival[i - 1]!) sorted = false
  if (!sorted) idx.sort((a, b) => arrival[a]! - arrival[b]! || a - b)
  return idx
}

/** A worker's queue: a binary heap of job indices by the tier-2 order (ties: arrival, then index). */
class JobHeap {
  private items: number[] = []
  constructor(private readonly order: Order, private readonly arrival: Float64Array, private readonly estimate: Float64Array) {}
  get size(): number { return this.items.length }
  private before(a: number, b: number): boolean {
    if (this.order === 'sjf' && this.estimate[a] !== this.estimate[b]) return this.estimate[a]! < this.estimate[b]!
    if (this.arrival[a] !== this.arrival[b]) return this.arrival[a]! < this.arrival[b]!
    return a < b
  }
  push(job: number): void {
    const h = this.items
    let i = h.push(job) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(h[i]!, h[parent]!)) break
      ;[h[i], h[parent]] = [h[parent]!, h[i]!]
      i = parent
    }
  }
  pop(): number {
    const h = this.items
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.before(h[l]!, h[m]!)) m = l
        if (r < h.length && this.before(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}

/** Running jobs' finish times: a binary heap of (time, worker), ties in worker order. */
class FinishHeap {
  private readonly time: Float64Array
  private readonly worker: Int32Array
  size = 0
  constructor(capacity: number) {
    this.time = new Float64Array(capacity)
    this.worker = new Int32Array(capacity)
  }
  topTime(): number { return this.time[0]! }
  private before(i: number, j: number): boolean {
    return this.time[i]! < this.time[j]! || (this.time[i] === this.time[j] && this.worker[i]! < this.worker[j]!)
  }
  private swap(i: number, j: number): void {
    const t = this.time[i]!; this.time[i] = this.time[j]!; this.time[j] = t
    const w = this.worker[i]!; this.worker[i] = this.worker[j]!; this.worker[j] = w
  }
  push(time: number, worker: number): void {
    let i = this.size++
    this.time[i] = time
    this.worker[i] = worker
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }
  pop(): number {
    const top = this.worker[0]!
    this.size--
    if (this.size > 0) {
      this.time[0] = this.time[this.size]!
      this.worker[0] = this.worker[this.size]!
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.size && this.before(l, m)) m = l
        if (r < this.size && this.before(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }
}

/** Mean, p50 and p95 (nearest rank) of the JCTs, and the makespan (last completion − first arrival). */
export function summarize(stream: JobStream, jct: Float64Array): Omit<PolicyResult, 'speedup'> {
  const n = jct.length
  if (n === 0) return { meanJct: 0, p50Jct: 0, p95Jct: 0, makespan: 0 }
  let sum = 0
  let firstArrival = Number.POSITIVE_INFINITY
  let lastEnd = Number.NEGATIVE_INFINITY
  for (let i = 0; i < n; i++) {
    sum += jct[i]!
    firstArrival = Math.min(firstArrival, stream.arrival[i]!)
    lastEnd = Math.max(lastEnd, stream.arrival[i]! + jct[i]!)
  }
  const sorted = Float64Array.from(jct).sort()
  const rank = (q: number) => sorted[Math.max(0, Math.ceil(q * n) - 1)]!
  return { meanJct: sum / n, p50Jct: rank(0.5), p95Jct: rank(0.95), makespan: lastEnd - firstArrival }
}

export interface SyntheticSetting {
  workers: number
  jobs: number
  /**
   * 'batch': jobs submitted in sets of `batchSize`, one set every `batchInterval` seconds (each set
   * is one scheduling interval's jobs, as Algorithm 1 takes them); 'poisson': one job at a time.
   */
  arrivals: 'batch' | 'poisson'
  batchSize: number
  batchInterval: number
  /** Poisson only: offered load, arrival rate × mean duration / workers. */
  load: number
  seed: number
  /** Fraction of long jobs (a sweep) among short ones (one configuration). */
  longFraction: number
  /** Uniform ranges of the two kinds' durations, seconds. */
  shortSeconds: [number, number]
  longSeconds: [number, number]
}

/**
 * The default setting, modelled on the paper's case study (§4.3.2 Algorithm 1, §5.5): a team's
 * benchmark jobs submitted in sets to 8 shared workers — 24 jobs an hour for 100 hours (2,400
 * jobs), 70% short (30–120 s: one configuration) and 30% long (600–1,800 s: a sweep), durations
 * known before they run (estimates exact). docs/scheduler.md shows how the speed-up moves with it.
 */
export const PAPER_SETTING: SyntheticSetting = {
  workers: 8, jobs: 2400, arrivals: 'batch', batchSize: 24, batchInterval: 3600, load: 0.9, seed: 1,
  longFraction: 0.3, shortSeconds: [30, 120], longSeconds: [600, 1800],
}

export function syntheticStream(s: SyntheticSetting): JobStream {
  const rng = seededRng(s.seed)
  const uniform = ([lo, hi]: [number, number]) => lo + rng() * (hi - lo)
  const meanDuration = (1 - s.longFraction) * (s.shortSeconds[0] + s.shortSeconds[1]) / 2 + s.longFraction * (s.longSeconds[0] + s.longSeconds[1]) / 2
  const rate = (s.load * s.workers) / meanDuration
  const arrival = new Float64Array(s.jobs)
  const duration = new Float64Array(s.jobs)
  let t = 0
  for (let i = 0; i < s.jobs; i++) {
    if (s.arrivals === 'poisson') t += exponential(rng, rate)
    else t = Math.floor(i / s.batchSize) * s.batchInterval
    arrival[i] = t
    duration[i] = uniform(rng() < s.longFraction ? s.longSeconds : s.shortSeconds)
  }
  return { arrival, duration, estimate: duration }
}

/** Every policy on the same stream; speed-ups against rr-fcfs (run too when not asked for). */
export function comparePolicies(stream: JobStream, workers: number, policies: readonly Policy[]): Record<string, PolicyResult> {
  const baseline = summarize(stream, simulate(stream, workers, { placement: 'rr', order: 'fcfs' })).meanJct
  const out: Record<string, PolicyResult> = {}
  for (const p of policies) {
    const r = summarize(stream, simulate(stream, workers, p))
    out[p.name] = { ...r, speedup: r.meanJct > 0 ? baseline / r.meanJct : 1 }
  }
  return out
}
