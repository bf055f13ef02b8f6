import { InferbenchError } from '../errors.ts'

/**
 * The two tiers of the paper's scheduler (§4.3.2, Algorithm 1) as pure functions, with its
 * baselines behind one interface. Tier 1 (the leader) places each arriving job on a worker;
 * tier 2 (each worker) picks the next job from its own queue when it frees.
 *
 * - `rr`: round-robin over workers, whatever they hold.
 * - `lb`: the worker with the fewest jobs, queued + running.
 * - `qa`: queue-aware — the worker with the least outstanding work: its queued jobs' estimates
 *   plus the estimated remaining time of its running job (never below zero).
 * Ties go to the lowest worker index.
 * - `fcfs`: earliest arrival first; `sjf`: smallest estimate first (ties: earliest arrival).
 * Jobs that tie on both keep their submission order.
 */
export const PLACEMENTS = ['rr', 'lb', 'qa'] as const
export const ORDERS = ['fcfs', 'sjf'] as const
export type Placement = typeof PLACEMENTS[number]
export type Order = typeof ORDERS[number]

/** The paper's three: RR + FCFS and LB + SJF (its baselines), QA-LB + SJF (its scheduler). */
export const PAPER_POLICIES = ['rr-fcfs', 'lb-sjf', 'qa-sjf'] as const

export interface Policy {
  name: string
  placement: Placement
  order: Order
}

/** `rr-fcfs`, `lb-sjf`, `qa-sjf`, or any other `<placement>-<order>` pair. */
export function policyByName(name: string): Policy {
  const [placement, order, ...rest] = name.split('-')
  if (rest.length || !(PLACEMENTS as readonly string[]).includes(placement!) || !(ORDERS as readonly string[]).includes(order!)) {
    throw new InferbenchError('INFERBENCH_USAGE',
      `unknown scheduling policy '${name}': expected <placement>-<order> with placement ${PLACEMENTS.join(', ')} and order ${ORDERS.join(', ')} (the paper's: ${PAPER_POLICIES.join(', ')})`)
  }
  return { name, placement: placement as Placement, order: order as Order }
}

/** What tier 1 sees of each worker: jobs it holds, and its outstanding estimated work. */
export interface WorkerLoad {
  /** Jobs queued plus the one running (0 or 1). */
  jobs: number
  /** Sum of the queued jobs' estimates, seconds. */
  queuedSeconds: number
  /** When the running job is estimated to end (seconds, same clock as `now`); -Infinity when idle. */
  runningEstimatedEnd: number
}

/** Outstanding work of a worker at `now`: queued estimates + the running job's estimated remainder. */
export function outstandingSeconds(w: WorkerLoad, now: number): number {
  return w.queuedSeconds + Math.max(0, w.runningEstimatedEnd - now)
}

/** Tier 1: the index of the worker a job arriving at `now` goes to. `placed` counts earlier placements (round-robin). */
export function placeJob(placement: Placement, workers: readonly WorkerLoad[], now: number, placed: number): number {
  if (workers.length === 0) throw new InferbenchError('INFERBENCH_USAGE', 'no worker to place a job on')
  if (placement === 'rr') return placed % workers.length
  let best = 0
  let bestKey = Number.POSITIVE_INFINITY
  for (let i = 0; i < workers.length; i++) {
    const key = placement === 'lb' ? workers[i]!.jobs : outstandingSeconds(workers[i]!, now)
    if (key < bestKey) {
      best = i
      bestKey = key
    }
  }
  return best
}

export interface QueuedJob {
  /** Submission order: the last tie-break. */
  seq: number
  arrival: number
  estimate: number
}

/** Tier 2: whether `a` runs before `b` under the order policy. */
export function runsBefore(order: Order, a: QueuedJob, b: QueuedJob): boolean {
  if (order === 'sjf' && a.estimate !== b.estimate) return a.estimate < b.estimate
  if (a.arrival !== b.arrival) return a.arrival < b.arrival
  return a.seq < b.seq
}

/** Tier 2 on a whole queue: the index of the job a freed worker runs next. */
export function nextJob(order: Order, queue: readonly QueuedJob[]): number {
  let best = -1
  for (let i = 0; i < queue.length; i++) if (best < 0 || runsBefore(order, queue[i]!, queue[best]!)) best = i
  return best
}
