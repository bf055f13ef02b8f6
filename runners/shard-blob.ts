import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { InferbenchError } from '../core/errors.ts'
import type { Reporter } from '../core/plugin.ts'
import type { JobStatus, RunReport } from '../core/report.ts'
import { parseRunReport } from '../core/report-schema.ts'
import type { Shard } from '../core/schedule/shard.ts'
import type { Job } from '../core/plan.ts'
import { sha256, stableStringify } from '../core/hash.ts'

/** Bumped when the blob's shape changes: merge refuses blobs of mixed versions. */
export const SHARD_BLOB_VERSION = 1

/**
 * What one `--shard=i/n` run leaves for `inferbench merge`: its whole JSON report (with every
 * job's full latency histogram: percentiles cannot be merged from summaries) and the ids of the
 * full plan, so the merge can tell a missing job from one that was never planned.
 */
export interface ShardBlob {
  format: 'inferbench-shard'
  schemaVersion: number
  shard: Shard
  planJobIds: string[]
  /** A hash of every planned job's settings (workload, warm-up, SLO, probes, sharing): ids alone do not change with them. */
  planHash?: string
  report: RunReport
}

export function shardBlobPath(dir: string, shard: Shard): string {
  return join(dir, `shard-${shard.index}-of-${shard.count}.json`)
}

/** A reporter that writes the shard's blob when the run ends. */
export function shardBlobWriter(path: string, shard: Shard, planJobIds: string[], planHash: string): Reporter {
  return {
    onRunEnd(run) {
      const blob: ShardBlob = { format: 'inferbench-shard', schemaVersion: SHARD_BLOB_VERSION, shard, planJobIds, planHash, report: run }
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, `${JSON.stringify(blob)}\n`)
    },
  }
}

/** Every blob in `dir` (files named shard-*.json), checked; each problem names its file. */
export function readShardBlobs(dir: string): Array<{ file: string; blob: ShardBlob }> {
  let names: string[]
  try {
    // Subfolders too: CI artifact downloads put each shard's blob in a folder of its own.
    names = (readdirSync(dir, { recursive: true }) as string[]).filter((n) => /^shard-.*\.json$/.test(basename(n))).sort()
  } catch (error) {
    throw new InferbenchError('INFERBENCH_USAGE', `merge: cannot read ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (names.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `merge: no shard blobs (shard-*.json) in ${dir} or its subfolders; each --shard=i/n run writes one there`)
  return names.map((name) => {
    const file = join(dir, name)
    let raw: Partial<ShardBlob>
    try {
      raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<ShardBlob>
    } catch (error) {
      throw new InferbenchError('INFERBENCH_REPORT_INVALID', `${file} is not JSON: ${(error as Error).message}`)
    }
    if (raw.format !== 'inferbench-shard' || typeof raw.schemaVersion !== 'number' || !raw.shard || !Array.isArray(raw.planJobIds)) {
      throw new InferbenchError('INFERBENCH_REPORT_INVALID', `${file} is not an inferbench shard blob (format, schemaVersion, shard, planJobIds, report)`)
    }
    const report = parseRunReport(JSON.stringify(raw.report), `${file} (report)`)
    return { file, blob: { ...(raw as ShardBlob), report } }
  })
}

/**
 * One report from every shard of one plan: refused when the blobs' schema versions, shard counts
 * or plans differ, when a shard is missing or given twice, or when a planned job is in no shard
 * or in two. Jobs come out in plan order; the run spans the earliest start to the latest end.
 */
export function mergeShardBlobs(blobs: Array<{ file: string; blob: ShardBlob }>): RunReport & { shards: Array<{ index: number; count: number; hostname: string; startedAt: string; finishedAt: string }> } {
  const versions = [...new Set(blobs.map((b) => b.blob.schemaVersion))]
  if (versions.length > 1 || versions[0] !== SHARD_BLOB_VERSION) {
    throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: shard blobs of schema version${versions.length > 1 ? 's' : ''} ${versions.join(' and ')}; this inferbench merges version ${SHARD_BLOB_VERSION} only: rerun the shards with one inferbench version`)
  }
  const first = blobs[0]!.blob
  const count = first.shard.count
  const plan = first.planJobIds.join('\0')
  for (const { file, blob } of blobs) {
    if (blob.shard.count !== count) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: ${file} is shard ${blob.shard.index}/${blob.shard.count}, the others of ${count}`)
    if (blob.planJobIds.join('\0') !== plan) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: ${file} was planned from different bench files or options than ${blobs[0]!.file} (its job ids differ)`)
    if (blob.planHash !== first.planHash) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: ${file} was planned with different bench settings than ${blobs[0]!.file} (a workload, warm-up, SLO or probe changed between the shards): rerun every shard from one commit`)
  }
  const seen = new Map<number, string>()
  for (const { file, blob } of blobs) {
    const other = seen.get(blob.shard.index)
    if (other) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: shard ${blob.shard.index}/${count} is given twice: ${other} and ${file}`)
    seen.set(blob.shard.index, file)
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i))
  if (missing.length) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: missing shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')}: run ${missing.length > 1 ? 'them' : 'it'} first (npx inferbench --shard=${missing[0]}/${count})`)
  const byId = new Map<string, RunReport['jobs'][number]>()
  for (const { file, blob } of blobs) {
    for (const job of blob.report.jobs) {
      if (byId.has(job.id)) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: job ${job.id} (${job.suite} > ${job.name}) is in two shards, the second in ${file}`)
      byId.set(job.id, job)
    }
  }
  const absent = first.planJobIds.filter((id) => !byId.has(id))
  if (absent.length) throw new InferbenchError('INFERBENCH_REPORT_INVALID', `merge: ${absent.length} planned job${absent.length > 1 ? 's are' : ' is'} in no shard (${absent.slice(0, 3).join(', ')}${absent.length > 3 ? ', …' : ''}): a shard stopped early or was filtered differently`)
  const jobs = first.planJobIds.map((id) => byId.get(id)!)
  const counts: Record<JobStatus, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const j of jobs) counts[j.status]++
  const reports = blobs.map((b) => b.blob.report)
  const startedAt = reports.map((r) => r.startedAt).sort()[0]!
  const finishedAt = reports.map((r) => r.finishedAt).sort().at(-1)!
  const stopped = reports.filter((r) => r.stoppedEarly).map((r) => r.stoppedEarly!)
  return {
    startedAt, finishedAt, durationMs: Date.parse(finishedAt) - Date.parse(startedAt),
    fingerprint: blobs.map((b) => b.blob).sort((a, b) => a.shard.index - b.shard.index)[0]!.report.fingerprint,
    jobs, counts, ...(stopped.length ? { stoppedEarly: stopped.join('; ') } : {}),
    shards: blobs.map(({ blob }) => ({ index: blob.shard.index, count, hostname: blob.report.fingerprint.hostname, startedAt: blob.report.startedAt, finishedAt: blob.report.finishedAt }))
      .sort((a, b) => a.index - b.index),
  }
}

/** What must be equal across the shards of one plan beyond the job ids. */
export function planHash(jobs: readonly Job[]): string {
  return sha256(jobs.map((j) => stableStringify({
    id: j.id, name: j.fullName, skip: j.skip ?? null,
    ...(j.kind === 'serving' ? { warmup: j.warmup ?? null, slo: j.slo, probes: j.probes ?? null, sharing: j.sharing ?? null } : { options: j.options }),
  })).join('\n'))
}
