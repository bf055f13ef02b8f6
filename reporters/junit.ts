import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { Reporter, ReporterOptions } from '../core/plugin.ts'
import type { JobReport, RunReport } from '../core/report.ts'
import { describeVerdict } from '../core/stats/slo.ts'

export const DEFAULT_JUNIT_FILE = 'inferbench-report/junit.xml'

/**
 * JUnit XML for CI (Jenkins, GitLab, GitHub test reporters): a testsuite per suite, a testcase per
 * job; one <failure> per unmet SLO with the measured figure against its limit, one per failed check
 * or invalid measurement; <error> for a job that crashed; <skipped> with its reason. The key
 * figures ride along as properties. To `outputFile`, default inferbench-report/junit.xml.
 */
export function junitReporter(options: ReporterOptions): Reporter {
  return {
    onRunEnd(run: RunReport) {
      const path = resolve(options.root, options.outputFile ?? DEFAULT_JUNIT_FILE)
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, junitXml(run))
    },
  }
}

export function junitXml(run: RunReport): string {
  const suites = new Map<string, JobReport[]>()
  for (const job of run.jobs) suites.set(job.suite, [...(suites.get(job.suite) ?? []), job])
  const count = (jobs: JobReport[]) => ({
    tests: jobs.length,
    failures: jobs.filter((j) => j.status === 'failed').length,
    errors: jobs.filter((j) => j.status === 'errored').length,
    skipped: jobs.filter((j) => j.status === 'skipped').length,
    time: jobs.reduce((sum, j) => sum + seconds(j), 0),
  })
  const total = count(run.jobs)
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="inferbench" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" skipped="${total.skipped}" time="${total.time.toFixed(3)}" timestamp="${esc(run.startedAt)}">`]
  let id = 0
  for (const [name, jobs] of suites) {
    const c = count(jobs)
    lines.push(`  <testsuite name="${esc(name)}" id="${id++}" tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${c.time.toFixed(3)}" timestamp="${esc(run.startedAt)}" hostname="${esc(run.fingerprint.hostname)}">`)
    for (const job of jobs) lines.push(...testcase(job))
    lines.push('  </testsuite>')
  }
  lines.push('</testsuites>', '')
  return lines.join('\n')
}

function testcase(job: JobReport): string[] {
  const params = Object.entries(job.params).map(([k, v]) => `${k}=${v}`).join(', ')
  const name = params ? `${job.name} [${params}]` : job.name
  const open = `    <testcase name="${esc(name)}" classname="${esc(job.suite)}" time="${seconds(job).toFixed(3)}">`
  const body: string[] = []
  if (job.status !== 'skipped' && 'latency' in job && job.latency) {
    body.push('      <properties>')
    const props: Array<[string, number | string | undefined]> = [
      ['id', job.id], ['p50_ms', job.latency.p50], ['p99_ms', job.latency.p99], ['requests_per_sec', job.throughput?.requestsPerSec],
      ['samples_per_sec', job.throughput?.samplesPerSec], ['energy_j_per_request', job.cost?.energy?.perRequestJ],
      ['usd_per_million_requests', job.cost?.cloud?.perMillionRequestsUsd],
      ['goodput_rps', job.peak?.goodputRps], ['goodput_bound_by', job.peak?.boundBy],
      ['stable', job.stability ? String(job.stability.stable) : undefined],
    ]
    for (const [k, v] of props) if (v !== undefined) body.push(`        <property name="${k}" value="${esc(typeof v === 'number' ? String(round(v)) : v)}"/>`)
    body.push('      </properties>')
    // A measurement that passed but did not settle is worth a line in the CI log, not a failure.
    if (job.stability && !job.stability.stable && job.status === 'passed') body.push(`      <system-out>${esc(`unstable: ${job.stability.reason}`)}</system-out>`)
  }
  if (job.status === 'failed') {
    const unmet = job.slo.filter((v) => !v.pass)
    for (const v of unmet) {
      const detail = v.thinTail
        ? `cannot be judged: measured ${v.metric} ${round(v.actual)} ${v.unit} rests on ${round(v.thinTail.beyond)} answers beyond it; ${v.thinTail.needed} answered requests resolve ${v.metric} (limit ${v.comparison} ${round(v.threshold)} ${v.unit})`
        : `measured ${v.metric} ${round(v.actual)} ${v.unit}, limit ${v.comparison} ${round(v.threshold)} ${v.unit}`
      body.push(`      <failure type="${v.thinTail ? 'slo-unjudged' : 'slo'}" message="${esc(`SLO ${describeVerdict(v)}`)}">${esc(detail)}</failure>`)
    }
    for (const f of job.failures.filter((f) => !f.startsWith('SLO '))) {
      body.push(`      <failure type="${f.startsWith('invalid') ? 'invalid-measurement' : 'check'}" message="${esc(f)}"/>`)
    }
  } else if (job.status === 'errored') {
    body.push(`      <error type="${esc(job.error.code ?? job.error.name)}" message="${esc(job.error.message)}">${esc(job.error.stack ?? job.error.message)}</error>`)
  } else if (job.status === 'skipped') {
    body.push(`      <skipped message="${esc(job.reason)}"/>`)
  }
  return body.length ? [open, ...body, '    </testcase>'] : [`${open.slice(0, -1)}/>`]
}

function seconds(job: JobReport): number {
  return job.status === 'skipped' ? 0 : ((('durationMs' in job ? job.durationMs : 0) ?? 0) + (('coldStartMs' in job ? job.coldStartMs : 0) ?? 0)) / 1000
}

function round(v: number): number {
  return Number(v.toPrecision(6))
}

/** XML attribute and text escaping; characters XML 1.0 cannot hold at all are dropped. */
function esc(text: string): string {
  return text.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
