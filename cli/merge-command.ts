import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadConfig } from '../core/config.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import type { TextSink } from '../core/plugin.ts'
import { PerfDb } from '../core/store/perf-db.ts'
import { mergeShardBlobs, readShardBlobs } from '../runners/shard-blob.ts'

export interface MergeFlags {
  config?: string
  db?: string
  outputFile?: string
  store?: boolean
  json?: boolean
}

/**
 * `inferbench merge <dir>`: the blobs every `--shard=i/n` run left in `dir`, as one JSON report
 * (--outputFile) and one PerfDB run. Refuses mixed schema versions, missing or repeated shards,
 * and plans that differ, naming the file at fault.
 */
export async function mergeCommand(dir: string | undefined, flags: MergeFlags, cwd: string, out: TextSink): Promise<number> {
  if (!dir) throw new InferbenchError('INFERBENCH_USAGE', 'merge: give the folder the shard blobs are in (default of --shard runs: .inferbench/shards)')
  const merged = mergeShardBlobs(readShardBlobs(resolve(cwd, dir)))
  if (flags.outputFile) writeFileSync(resolve(cwd, flags.outputFile), `${JSON.stringify({ schemaVersion: 1, ...merged }, null, 2)}\n`)
  let runId: number | undefined
  if (flags.store !== false) {
    const path = flags.db ? resolve(cwd, flags.db) : (await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })).perfDb
    if (path !== false) {
      const db = PerfDb.open(path)
      try {
        runId = db.findRun(merged.startedAt, merged.fingerprint.hostname) ?? db.importRun(merged, `merge:${dir}`)
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
