import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { EXIT } from '../core/errors.ts'
import type { TextSink } from '../core/plugin.ts'
import { PerfDb } from '../core/store/perf-db.ts'
import { mergeShardBlobs, readShardBlobs } from '../runners/shard-blob.ts'
import { perfDbPath } from './store-command.ts'

export interface MergeFlags {
  config?: string
  db?: string
  outputFile?: string
  store?: boolean
  json?: boolean
}

/**
 * `inferbench merge [dir]` (default .inferbench/shards): the blobs every `--shard=i/n` run left in `dir`, as one JSON report
 * (--outputFile) and one PerfDB run. Refuses mixed schema versions, missing or repeated shards,
 * and plans that differ, naming the file at fault.
 */
export async function mergeCommand(dir: string | undefined, flags: MergeFlags, cwd: string, out: TextSink): Promise<number> {
  dir ??= '.inferbench/shards'
  const merged = mergeShardBlobs(readShardBlobs(resolve(cwd, dir)))
  if (flags.outputFile) writeFileSync(resolve(cwd, flags.outputFile), `${JSON.stringify({ schemaVersion: 1, ...merged }, null, 2)}\n`)
  let runId: number | undefined
  if (flags.store !== false) {
    const path = await perfDbPath(flags, cwd)
    if (path !== false) {
      const db = PerfDb.open(path)
      try {
        // The same merge stored before (same shards, same results) is not stored twice; a merge
        // sharing only its first shard's start (a retried shard) is a new run.
        const earlier = db.findRun(merged.startedAt, merged.fingerprint.hostname)
        const same = earlier !== undefined && sameJobs(db.jobs(earlier).map((j) => j.report), merged.jobs)
        runId = same ? earlier : db.importRun(merged, `merge:${dir}`)
      } finally {
        db.close()
      }
    }
  }
  if (flags.json && !flags.outputFile) {
    out.write(`${JSON.stringify({ schemaVersion: 1, ...merged, ...(runId !== undefined ? { runId } : {}) }, null, 2)}\n`)
    return EXIT.ok
  }
  const k = merged.counts
  out.write(`merged ${merged.shards.length} shards (${merged.shards.map((s) => `${s.index}/${s.count} on ${s.hostname}`).join(', ')}): ${merged.jobs.length} jobs, ${k.passed} passed, ${k.failed} failed, ${k.errored} errored, ${k.skipped} skipped`
    + `${flags.outputFile ? `; report ${flags.outputFile}` : ''}${runId !== undefined ? `; PerfDB run ${runId}` : ''}\n`)
  return k.failed + k.errored > 0 ? EXIT.failed : EXIT.ok
}

function sameJobs(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]))
}
