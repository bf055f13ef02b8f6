/**
 * `inferbench/node`: plan and run benches in-process and get the RunReport back, as Vitest has
 * `vitest/node`. For plugin authors testing their plugin and CI scripts that act on results
 * without spawning the CLI. Bench files and configs in TypeScript need a loader in the calling
 * process (vitest or tsx provide one). Each plan evaluates the bench files afresh; modules they
 * import, and the config file, are Node's cached copies for the life of the process.
 */
import type { UserConfig } from '../core/config.ts'
import type { Job } from '../core/plan.ts'
import type { Reporter } from '../core/plugin.ts'
import type { RunReport } from '../core/report.ts'
import { isolateReporter } from './isolated-reporter.ts'
import { runLocal } from './local.ts'
import { storeRecorder } from './store-recorder.ts'
import { prepareRun } from './prepare-run.ts'

export interface InferbenchOptions {
  /** Folder the config is looked up from and filters are relative to (default: process.cwd()). */
  cwd?: string
  /** A config file (default: the one found from cwd). */
  config?: string
  /** Bench file filters, as on the command line. */
  filters?: string[]
  /** Config fields that win over the file's, e.g. { testNamePattern: 'poisson', measurement: { ... } }. */
  overrides?: Partial<UserConfig>
  /** Reporters hooked into the run (objects, not names); none by default: the report is returned. */
  reporters?: Reporter[]
  /** Stops the run as Ctrl-C does: the running job ends errored with what it measured, the rest are skipped. */
  signal?: AbortSignal
}

/** The jobs a run would execute, as `--list` shows them. */
export async function planBenchmarks(options: InferbenchOptions = {}): Promise<Job[]> {
  return (await prepare(options)).jobs
}

/**
 * Runs the benches and resolves to the run's report (the JSON report's contents). Rejects with
 * an InferbenchError (its `code` in docs/errors.md) for a config, bench or plan error, before
 * anything runs; a job's own failure is in the report, not a rejection.
 */
export async function runBenchmarks(options: InferbenchOptions = {}): Promise<RunReport> {
  const { config, registry, jobs } = await prepare(options)
  const warn = (message: string) => process.stderr.write(`inferbench: ${message}\n`)
  const reporters = (options.reporters ?? []).map((r, i) => isolateReporter(`reporters[${i}]`, r, warn))
  // Stored as a CLI run is, unless the config (or overrides: { perfDb: false }) says not to.
  if (config.perfDb !== false) reporters.push(storeRecorder({ path: config.perfDb, root: config.root, source: 'node-api', warn }))
  return runLocal({ jobs, registry, config, reporters, ...(options.signal ? { signal: options.signal } : {}) })
}

function prepare(options: InferbenchOptions) {
  return prepareRun({
    cwd: options.cwd ?? process.cwd(),
    ...(options.config ? { configFile: options.config } : {}),
    ...(options.filters ? { filters: options.filters } : {}),
    overrides: { reporters: [], ...options.overrides },
  })
}

export type { RunReport, JobReport } from '../core/report.ts'
export type { Job } from '../core/plan.ts'
