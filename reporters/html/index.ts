import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, relative, resolve } from 'node:path'
import type { Fingerprint } from '../../core/fingerprint.ts'
import type { Reporter, ReporterOptions } from '../../core/plugin.ts'
import type { JobReport, RunReport } from '../../core/report.ts'
import { PerfDb } from '../../core/store/perf-db.ts'
import { namesGpuProvider } from '../../plugins/shared/gpu-providers.ts'
import { leaderboardEntry, type LeaderboardEntry } from '../analysis/leaderboard.ts'
import { recommend, type Constraint, type ConstraintMetric } from '../analysis/recommend.ts'
import { acceleratorCeilings, ceilingsPath, cpuKey, loadCeilings, type Ceilings } from '../analysis/roofline.ts'
import { suiteCharts } from './charts.ts'
import { measuredJobs, type MeasuredJob } from './job-rows.ts'
import { reportPage, type SuiteRecommendation, type SuiteSection } from './page.ts'
import { vegaScripts } from './vega-bundle.ts'

export const DEFAULT_HTML_FILE = 'inferbench-report/index.html'

/**
 * `--reporter html`: one self-contained page (vega-lite charts, every script inline) per run, to
 * `outputFile` (default inferbench-report/index.html): per suite its results, the charts its
 * sweeps support, and the best configurations under its SLO; then the PerfDB's leaderboard.
 */
export function htmlReporter(options: ReporterOptions): Reporter {
  return {
    onRunEnd(run: RunReport) {
      const path = resolve(options.root, options.outputFile ?? DEFAULT_HTML_FILE)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, htmlReport(run, { root: options.root, perfDb: options.perfDb ?? false }))
      const shown = relative(process.cwd(), path) || path
      options.notes?.write(` HTML report ${shown} (inferbench show-report ${basename(path) === 'index.html' ? relative(process.cwd(), dirname(path)) || '.' : shown})\n`)
    },
  }
}

export function htmlReport(run: RunReport, where: { root: string; perfDb: string | false }): string {
  const bySuite = new Map<string, JobReport[]>()
  for (const job of run.jobs) bySuite.set(job.suite, [...(bySuite.get(job.suite) ?? []), job])
  const cpuCeilings = loadCeilings(ceilingsPath(where.root, where.perfDb), cpuKey(run.fingerprint.cpu))
  const suites: SuiteSection[] = [...bySuite].map(([name, jobs], i) => {
    const measured = measuredJobs(jobs)
    const id = `suite-${i}`
    return { id, name, jobs, charts: suiteCharts(id, measured, ceilingsFor(measured, run.fingerprint, cpuCeilings)), recommendation: suiteRecommendation(measured, run.fingerprint) }
  })
  return reportPage({ run, suites, leaderboard: leaderboard(run, where.perfDb), scripts: vegaScripts() })
}

/** A suite on a GPU execution provider sits under the GPU's datasheet roof; otherwise under this CPU's measured one. */
function ceilingsFor(jobs: MeasuredJob[], fingerprint: Fingerprint, cpu: Ceilings | undefined): Ceilings | undefined {
  const gpu = fingerprint.gpu?.devices[0]
  if (gpu && jobs.some((j) => namesGpuProvider(j.params))) return acceleratorCeilings(gpu, 'fp32')
  return cpu
}

/** The suite's own latency SLO (the strictest limit per percentile its jobs set), best throughput first. */
function suiteRecommendation(jobs: MeasuredJob[], fingerprint: Fingerprint): SuiteRecommendation {
  const limits = new Map<ConstraintMetric, number>()
  for (const j of jobs) {
    for (const v of j.slo) {
      if (v.unit !== 'ms') continue
      const metric = v.metric as ConstraintMetric
      limits.set(metric, Math.min(limits.get(metric) ?? Number.POSITIVE_INFINITY, v.threshold))
    }
  }
  if (limits.size === 0) return { kind: 'none', why: 'this suite sets no latency SLO (slo: { p99: \'50ms\' } on a bench), so nothing is ranked against one; inferbench recommend --slo ranks stored runs against any' }
  if (jobs.length < 2) return { kind: 'none', why: 'one configuration measured: nothing to choose between' }
  const constraints: Constraint[] = [...limits].map(([metric, value]) => ({ metric, op: '<=', value }))
  const slo = constraints.map((c) => `${c.metric}<=${c.value}ms`).join(', ')
  const result = recommend(jobs.map((job) => ({ job, fingerprint, runs: 1, throughputs: [job.throughput.requestsPerSec] })), constraints, 'throughput')
  const list = result.meets.length ? result.meets : result.closest
  if (list.length === 0) return { kind: 'none', why: `no configuration here can be judged against ${slo} (${result.unjudged} with too few answers for the percentile, ${result.invalid} invalid)` }
  return {
    kind: 'ranked', slo, meets: result.meets.length > 0,
    picks: list.map((r) => ({
      label: Object.entries(r.candidate.job.params).map(([k, v]) => `${k}=${v}`).join(', '),
      figure: result.meets.length ? `${Math.round(r.score).toLocaleString('en-US')} samples/s` : `${((r.worstRatio - 1) * 100).toFixed(0)}% beyond the SLO`,
      confidence: r.confidence, why: r.why,
    })),
    notes: [
      ...(result.unjudged ? [`${result.unjudged} left out: too few answers to judge the percentile`] : []),
      ...(result.invalid ? [`${result.invalid} left out: invalid measurement`] : []),
    ],
  }
}

/** Every configuration in the PerfDB (its latest result), or this run's when there is none. */
function leaderboard(run: RunReport, perfDb: string | false): { entries: LeaderboardEntry[]; source: string } {
  if (perfDb !== false && existsSync(perfDb)) {
    const db = PerfDb.open(perfDb)
    try {
      const entries = db.configurations().filter((x) => x.latest.report.kind === 'serving' && 'latency' in x.latest.report && x.latest.report.latency)
        .map((x) => leaderboardEntry(x.latest.report as MeasuredJob, x.fingerprint, x.runs))
      return { entries, source: `Every stored configuration in ${perfDb}, its latest result` }
    } finally {
      db.close()
    }
  }
  return { entries: measuredJobs(run.jobs).map((j) => leaderboardEntry(j, run.fingerprint, 1)), source: 'This run only (no PerfDB)' }
}
