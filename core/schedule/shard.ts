import { InferbenchError } from '../errors.ts'

export interface Shard {
  /** 1-based, as on the command line: --shard=2/4 is index 2 of count 4. */
  index: number
  count: number
}

export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim())
  const index = Number(m?.[1])
  const count = Number(m?.[2])
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InferbenchError('INFERBENCH_USAGE', `--shard: expected <index>/<count> with 1 ≤ index ≤ count, e.g. --shard=2/4, received '${value}'`)
  }
  return { index, count }
}

/**
 * Which shard (0-based) each job goes to: a deterministic split that balances estimated duration,
 * not job or file count — longest estimate first onto the shard with the least estimated work
 * so far (LPT; ties: the job's id, then the lowest shard). Skipped jobs cost nothing and all go to
 * the first shard, so the shards together report every job exactly once.
 */
export function assignShards(jobs: ReadonlyArray<{ id: string; estimateMs: number; skip?: string }>, count: number): number[] {
  const shardOf = new Array<number>(jobs.length).fill(0)
  const load = new Array<number>(count).fill(0)
  const runnable = jobs.map((job, i) => ({ job, i })).filter(({ job }) => !job.skip)
    .sort((a, b) => b.job.estimateMs - a.job.estimateMs || (a.job.id < b.job.id ? -1 : a.job.id > b.job.id ? 1 : a.i - b.i))
  for (const { job, i } of runnable) {
    let best = 0
    for (let s = 1; s < count; s++) if (load[s]! < load[best]!) best = s
    shardOf[i] = best
    load[best]! += job.estimateMs
  }
  return shardOf
}

/** The jobs of one shard, in plan order. */
export function shardJobs<T extends { id: string; estimateMs: number; skip?: string }>(jobs: readonly T[], shard: Shard): T[] {
  const shardOf = assignShards(jobs, shard.count)
  return jobs.filter((_, i) => shardOf[i] === shard.index - 1)
}
