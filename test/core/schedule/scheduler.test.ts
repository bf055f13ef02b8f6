import { describe, expect, it } from 'vitest'
import { nextJob, outstandingSeconds, placeJob, policyByName, PAPER_POLICIES, type Order, type Placement, type QueuedJob, type WorkerLoad } from '../../../core/schedule/policies.ts'
import { PAPER_SETTING, comparePolicies, simulate, summarize, syntheticStream, type JobStream } from '../../../core/schedule/simulate.ts'
import { parseTrace } from '../../../core/schedule/trace.ts'
import { seededRng } from '../../../core/rng.ts'

const stream = (jobs: Array<[number, number, number?]>): JobStream => ({
  arrival: Float64Array.from(jobs.map((j) => j[0])),
  duration: Float64Array.from(jobs.map((j) => j[1])),
  estimate: Float64Array.from(jobs.map((j) => j[2] ?? j[1])),
})
const run = (s: JobStream, workers: number, policy: string) => [...simulate(s, workers, policyByName(policy))]

describe('tier 1: placement', () => {
  const w = (jobs: number, queuedSeconds: number, runningEstimatedEnd = Number.NEGATIVE_INFINITY): WorkerLoad => ({ jobs, queuedSeconds, runningEstimatedEnd })
  it('rr cycles whatever the workers hold; lb takes the fewest jobs; qa the least outstanding work; ties to the lowest index', () => {
    const workers = [w(2, 10, 105), w(1, 0, 200), w(1, 0, 150)]
    expect([0, 1, 2, 3].map((placed) => placeJob('rr', workers, 100, placed))).toEqual([0, 1, 2, 0])
    expect(placeJob('lb', workers, 100, 0)).toBe(1) // 1 job, tie with worker 2: lowest index
    // qa at t=100: worker 0 has 10 queued + 5 remaining = 15, worker 1 100, worker 2 50.
    expect(workers.map((x) => outstandingSeconds(x, 100))).toEqual([15, 100, 50])
    expect(placeJob('qa', workers, 100, 0)).toBe(0)
    // A running job past its estimate counts as zero remaining, never negative.
    expect(outstandingSeconds(w(1, 0, 90), 100)).toBe(0)
    expect(placeJob('qa', [w(1, 0, 90), w(0, 0)], 100, 0)).toBe(0)
  })
})

describe('tier 2: order', () => {
  const q = (seq: number, arrival: number, estimate: number): QueuedJob => ({ seq, arrival, estimate })
  it('fcfs takes the earliest arrival; sjf the smallest estimate, ties by arrival then submission', () => {
    const queue = [q(0, 5, 30), q(1, 1, 60), q(2, 3, 10), q(3, 2, 10)]
    expect(nextJob('fcfs', queue)).toBe(1)
    expect(nextJob('sjf', queue)).toBe(3)
    expect(nextJob('sjf', [q(4, 2, 10), q(3, 2, 10)])).toBe(1)
  })
  it('names: <placement>-<order>; anything else is refused with the known ones', () => {
    expect(PAPER_POLICIES.map((n) => policyByName(n))).toEqual([
      { name: 'rr-fcfs', placement: 'rr', order: 'fcfs' }, { name: 'lb-sjf', placement: 'lb', order: 'sjf' }, { name: 'qa-sjf', placement: 'qa', order: 'sjf' },
    ])
    expect(() => policyByName('qa-lifo')).toThrow(/unknown scheduling policy 'qa-lifo': expected <placement>-<order> with placement rr, lb, qa and order fcfs, sjf/)
  })
})

describe('simulator on hand-checked cases', () => {
  // Two workers; at t=0 jobs of 10, 1, 1, 1 s arrive in that order.
  const four = stream([[0, 10], [0, 1], [0, 1], [0, 1]])
  it('rr-fcfs: round-robin puts a short job behind the long one', () => {
    // w0: job0 0–10, job2 10–11; w1: job1 0–1, job3 1–2.
    expect(run(four, 2, 'rr-fcfs')).toEqual([10, 1, 11, 2])
  })
  it('lb-sjf: fewest jobs (ties to the lowest index) keeps alternating here', () => {
    // job0→w0, job1→w1, job2→w0 (1 vs 1: lowest), job3→w1.
    expect(run(four, 2, 'lb-sjf')).toEqual([10, 1, 11, 2])
  })
  it('qa-sjf: least outstanding work sends every short job to the free worker', () => {
    // job0→w0 (10 s); job1→w1; job2: w0 10 vs w1 1 → w1; job3: w0 10 vs w1 2 → w1.
    expect(run(four, 2, 'qa-sjf')).toEqual([10, 1, 2, 3])
  })
  it('sjf reorders a queue; fcfs keeps arrival order', () => {
    // One worker: 5 s running from t=0; then 4 s, 1 s, 2 s arrive at t=1, 2, 3.
    const s = stream([[0, 5], [1, 4], [2, 1], [3, 2]])
    expect(run(s, 1, 'rr-fcfs')).toEqual([5, 8, 8, 9]) // ends 5, 9, 10, 12
    expect(run(s, 1, 'rr-sjf')).toEqual([5, 11, 4, 5]) // ends 5, 12, 6, 8
  })
  it('a worker freeing at an arrival\'s time is free for it; estimates, not durations, steer qa and sjf', () => {
    expect(run(stream([[0, 2], [2, 1]]), 1, 'qa-fcfs')).toEqual([2, 1])
    // job0 estimated 1 s but runs 10; job1 (est. 5) goes to w0 when w0 looks nearly done, w1 being busy longer.
    const s = stream([[0, 10, 1], [0, 3, 3], [0.5, 5, 5]])
    expect(run(s, 2, 'qa-fcfs')).toEqual([10, 3, 14.5])
  })
  it('summary: mean, nearest-rank p50/p95, makespan; speed-ups against rr-fcfs', () => {
    expect(summarize(four, simulate(four, 2, policyByName('qa-sjf')))).toEqual({ meanJct: 4, p50Jct: 2, p95Jct: 10, makespan: 10 })
    const r = comparePolicies(four, 2, ['rr-fcfs', 'qa-sjf'].map(policyByName))
    expect(r['rr-fcfs']!.speedup).toBe(1)
    expect(r['qa-sjf']!.speedup).toBe(6 / 4)
  })
})

describe('simulator agrees with the tier functions on random streams', () => {
  // A direct, slow replay built only from placeJob / nextJob: the reference the fast simulator must equal.
  function reference(s: JobStream, k: number, placement: Placement, order: Order): number[] {
    const n = s.arrival.length
    const jct = new Array<number>(n).fill(0)
    const queues: QueuedJob[][] = Array.from({ length: k }, () => [])
    const running: Array<{ job: number; end: number; estEnd: number } | undefined> = new Array(k).fill(undefined)
    const byArrival = [...Array(n).keys()].sort((a, b) => s.arrival[a]! - s.arrival[b]! || a - b)
    let next = 0
    let placed = 0
    for (;;) {
      const arrivalAt = next < n ? s.arrival[byArrival[next]!]! : Infinity
      let freeing = -1
      for (let w = 0; w < k; w++) if (running[w] && (freeing < 0 || running[w]!.end < running[freeing]!.end)) freeing = w
      if (freeing < 0 && next >= n) break
      if (freeing >= 0 && running[freeing]!.end <= arrivalAt) {
        const now = running[freeing]!.end
        jct[running[freeing]!.job] = now - s.arrival[running[freeing]!.job]!
        running[freeing] = undefined
        const q = queues[freeing]!
        if (q.length) {
          const [job] = q.splice(nextJob(order, q), 1)
          running[freeing] = { job: job!.seq, end: now + s.duration[job!.seq]!, estEnd: now + s.estimate[job!.seq]! }
        }
        continue
      }
      const job = byArrival[next++]!
      const loads = queues.map((q, w) => ({ jobs: q.length + (running[w] ? 1 : 0), queuedSeconds: q.reduce((a, j) => a + j.estimate, 0), runningEstimatedEnd: running[w]?.estEnd ?? -Infinity }))
      const w = placeJob(placement, loads, arrivalAt, placed++)
      if (!running[w]) running[w] = { job, end: arrivalAt + s.duration[job]!, estEnd: arrivalAt + s.estimate[job]! }
      else queues[w]!.push({ seq: job, arrival: s.arrival[job]!, estimate: s.estimate[job]! })
    }
    return jct
  }
  it('every policy, exact and wrong estimates, ties in arrival times', () => {
    const rng = seededRng(7)
    for (let trial = 0; trial < 40; trial++) {
      const n = 5 + Math.floor(rng() * 40)
      const k = 1 + Math.floor(rng() * 4)
      const jobs: Array<[number, number, number]> = []
      for (let i = 0; i < n; i++) {
        const d = 1 + Math.floor(rng() * 20)
        jobs.push([Math.floor(rng() * 30), d, trial % 2 ? d : 1 + Math.floor(rng() * 20)])
      }
      const s = stream(jobs)
      for (const placement of ['rr', 'lb', 'qa'] as const) for (const order of ['fcfs', 'sjf'] as const) {
        expect(run(s, k, `${placement}-${order}`), `trial ${trial} ${placement}-${order}`).toEqual(reference(s, k, placement, order))
      }
    }
  })
})

describe('the documented default setting', () => {
  it('reproduces the paper: QA-LB + SJF at least 1.4× faster than RR + FCFS in mean JCT, LB + SJF in between', () => {
    const r = comparePolicies(syntheticStream(PAPER_SETTING), PAPER_SETTING.workers, PAPER_POLICIES.map(policyByName))
    expect(r['qa-sjf']!.speedup).toBeGreaterThanOrEqual(1.4)
    expect(r['lb-sjf']!.speedup).toBeGreaterThan(1)
    expect(r['lb-sjf']!.speedup).toBeLessThan(r['qa-sjf']!.speedup)
  })
  it('1,000 workers × 1,000,000 jobs in seconds', () => {
    const s = syntheticStream({ ...PAPER_SETTING, workers: 1000, jobs: 1_000_000, arrivals: 'poisson', load: 0.9 })
    const t0 = performance.now()
    const jct = simulate(s, 1000, policyByName('qa-sjf'))
    const seconds = (performance.now() - t0) / 1000
    expect(jct.every((x) => x > 0)).toBe(true)
    expect(seconds).toBeLessThan(20)
  }, 60_000)
})

describe('trace CSV', () => {
  it('reads arrival,duration[,estimate] with an optional header; the estimate defaults to the duration', () => {
    const s = parseTrace('arrival,duration,estimate\n0,10,8\n# a comment\n1.5,2,\n', 'jobs.csv')
    expect([...s.arrival]).toEqual([0, 1.5])
    expect([...s.estimate]).toEqual([8, 2])
  })
  it('names the file, the line and the field of a bad entry', () => {
    expect(() => parseTrace('arrival,duration\n0,10\n3,-1\n', 'jobs.csv')).toThrow(/jobs\.csv:3: duration: expected a number > 0, found "-1"/)
    expect(() => parseTrace('0,10,5,9\n', 'jobs.csv')).toThrow(/jobs\.csv:1: expected arrival,duration\[,estimate\] in seconds/)
    expect(() => parseTrace('arrival,runtime\n', 'jobs.csv')).toThrow(/jobs\.csv:1: header: expected arrival,duration\[,estimate\]/)
    expect(() => parseTrace('\n', 'empty.csv')).toThrow(/empty\.csv: no jobs/)
  })
})
