import type { ResolvedConfig } from '../core/config.ts'
import type { Job } from '../core/plan.ts'
import type { PluginRegistry } from '../core/plugin.ts'
import type { JobProgress } from '../core/report.ts'

/** What running one job needs from the run around it. */
export interface JobContext {
  registry: PluginRegistry
  config: ResolvedConfig
  signal: AbortSignal
  onProgress(job: Job, progress: JobProgress): void
  /** Library versions reported by backends, gathered into the run fingerprint. */
  versions: Record<string, string>
}

export const PROGRESS_INTERVAL_MS = 250
