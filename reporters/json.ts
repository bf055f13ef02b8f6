import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Reporter, ReporterOptions } from '../core/plugin.ts'
import type { RunReport } from '../core/report.ts'

export const JSON_REPORT_SCHEMA_VERSION = 1

/**
 * One JSON document for the whole run: fingerprint, and every job's parameters, status, figures,
 * SLO verdicts and encoded latency histogram. To `outputFile` when given, else to stdout.
 */
export function jsonReporter(options: ReporterOptions): Reporter {
  return {
    onRunEnd(run: RunReport) {
      const text = `${JSON.stringify({ schemaVersion: JSON_REPORT_SCHEMA_VERSION, ...run }, null, 2)}\n`
      if (!options.outputFile) {
        options.stdout.write(text)
        return
      }
      const path = resolve(options.root, options.outputFile)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, text)
    },
  }
}
