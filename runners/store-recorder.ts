import { relative } from 'node:path'
import { collectFingerprint } from '../core/fingerprint.ts'
import type { Reporter, TextSink } from '../core/plugin.ts'
import { PerfDb } from '../core/store/perf-db.ts'
import { INFERBENCH_VERSION } from './version.ts'

export interface StoredRun {
  /** The run's id in the PerfDB, once it has begun there. */
  id?: number
}

/**
 * Writes the run into the PerfDB as it goes: the run when it starts, each job when it ends (its
 * own transaction), the totals at the end. Storing is never worth a lost measurement: if the
 * PerfDB cannot be opened or written, a warning says so and the run and its reports go on.
 */
export function storeRecorder(options: { path: string; root: string; source: string; stdout?: TextSink; warn: (message: string) => void; stored?: StoredRun }): Reporter {
  let db: PerfDb | undefined
  let runId: number | undefined
  // Taken now, before the run starts: it runs git, and a child process appearing mid-run would
  // look like part of the benchmark (a server's child, a probe's target).
  const fingerprint = collectFingerprint(options.root, INFERBENCH_VERSION, {})
  const fail = (what: string, error: unknown) => {
    options.warn(`could not ${what} the PerfDB ${options.path}: ${(error as Error).message}; the run goes on without storing`)
    db?.close()
    db = undefined
  }
  return {
    onRunStart() {
      try {
        db = PerfDb.open(options.path)
        runId = db.beginRun({ startedAt: new Date().toISOString(), fingerprint, source: options.source })
        if (options.stored) options.stored.id = runId
      } catch (error) {
        fail('open', error)
      }
    },
    onJobEnd(_job, report) {
      if (!db || runId === undefined) return
      try {
        db.recordJob(runId, report)
      } catch (error) {
        fail('write a job to', error)
      }
    },
    onRunEnd(run) {
      if (!db || runId === undefined) return
      try {
        db.endRun(runId, run)
        const where = relative(options.root, options.path) || options.path
        options.stdout?.write(` PerfDB  run ${runId} in ${where} (inferbench history; inferbench compare <run> ${runId})\n`)
      } catch (error) {
        fail('finish the run in', error)
      } finally {
        db?.close()
        db = undefined
      }
    },
  }
}
