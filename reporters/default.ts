import c from 'picocolors'
import { formatMs } from '../core/duration.ts'
import type { MlperfResult } from '../core/stats/mlperf.ts'
import type { Job } from '../core/plan.ts'
import type { Reporter, ReporterOptions } from '../core/plugin.ts'
import type { JobProgress, JobReport, Measurement, RunReport } from '../core/report.ts'
import { describeVerdict } from '../core/stats/slo.ts'
import { fmtMs, fmtRate, table } from './format.ts'

const SYMBOL: Record<JobReport['status'], string> = {
  passed: c.green('✓'), failed: c.red('✗'), errored: c.red('!'), skipped: c.dim('↓'),
}

/**
 * The console reporter, in the spirit of `vitest bench`: a live line for the running job, one
 * line per finished job, then a table per suite and every caveat (unstable, invalid) spelled out.
 */
export function defaultReporter(options: ReporterOptions): Reporter {
  const out = options.stdout
  const live = Boolean(out.isTTY) && !process.env.CI
  let liveShown = false
  const clearLive = () => {
    if (liveShown) out.write('\r\x1b[2K')
    liveShown = false
  }

  return {
    onRunStart(jobs: readonly Job[]) {
      const runnable = jobs.filter((j) => !j.skip)
      const estimate = runnable.reduce((s, j) => s + j.estimateMs, 0)
      out.write(`${c.bold(c.cyan(' INFERBENCH '))} ${runnable.length} job${runnable.length === 1 ? '' : 's'}`
        + `${jobs.length > runnable.length ? c.dim(` (${jobs.length - runnable.length} skipped)`) : ''}, estimated ${formatMs(estimate)}\n\n`)
    },
    onJobStart(job) {
      if (!live) return
      out.write(`\r\x1b[2K${fitLine(` … ${job.fullName}`, '', out.columns ?? 100)}`)
      liveShown = true
    },
    onJobProgress(job: Job, p: JobProgress) {
      if (!live) return
      const pct = p.fraction !== undefined ? ` ${(p.fraction * 100).toFixed(0)}%` : ''
      const status = p.phase === 'idle-wait' ? ` waiting for a quiet machine (measurement.idle), ${(p.elapsedMs / 1000).toFixed(0)}s`
        : ` ${p.phase}${pct} ${p.ok} ok${p.errors ? `, ${p.errors} errors` : ''}, ${fmtRate(p.currentRate)} req/s`
      out.write(`\r\x1b[2K${fitLine(` … ${job.fullName}`, status, out.columns ?? 100)}`)
      liveShown = true
    },
    onJobEnd(job: Job, r: JobReport) {
      clearLive()
      if (r.status === 'skipped') return
      out.write(` ${SYMBOL[r.status]} ${job.fullName}${summaryLine(r)}\n`)
      for (const line of detailLines(r)) out.write(`     ${line}\n`)
    },
    onRunEnd(run: RunReport) {
      clearLive()
      const bySuite = new Map<string, JobReport[]>()
      for (const job of run.jobs) if (job.status !== 'skipped') bySuite.set(job.suite, [...(bySuite.get(job.suite) ?? []), job])
      for (const [suite, jobs] of bySuite) {
        out.write(`\n ${c.bold(suite)}\n`)
        out.write(`${indent(suiteTable(jobs))}\n`)
      }
      const { counts } = run
      const parts = [
        counts.passed && c.green(`${counts.passed} passed`), counts.failed && c.red(`${counts.failed} failed`),
        counts.errored && c.red(`${counts.errored} errored`), counts.skipped && c.dim(`${counts.skipped} skipped`),
      ].filter(Boolean)
      out.write(`\n ${c.bold('Jobs')}  ${parts.join(c.dim(' | ')) || 'none'}${c.dim(` (${run.jobs.length})`)}\n`)
      out.write(` ${c.bold('Time')}  ${formatMs(run.durationMs)}${run.stoppedEarly ? c.yellow(`  stopped early: ${run.stoppedEarly}`) : ''}\n`)
      const fp = run.fingerprint
      out.write(c.dim(` ${fp.cpu.model} (${fp.cpu.cores} cores), Node ${fp.node}${Object.entries(fp.libraries).map(([k, v]) => `, ${k} ${v}`).join('')}\n`))
    },
  }
}

function summaryLine(r: JobReport): string {
  const m = measured(r)
  if (!m) return ''
  return c.dim(`  ${r.status === 'errored' ? 'until it stopped: ' : ''}p50 ${formatMs(m.latency.p50)}  p99 ${formatMs(m.latency.p99)}  ${fmtRate(m.throughput.requestsPerSec)} req/s`)
}

/** The figures of a job that measured something: every passed or failed one, and an errored one stopped mid-measurement. */
function measured(r: JobReport): Measurement | undefined {
  if (r.status === 'passed' || r.status === 'failed') return r
  if (r.status === 'errored' && r.latency && r.throughput && r.requests && r.stability && r.validity && r.durationMs !== undefined) return r as Measurement
  return undefined
}

function detailLines(r: JobReport): string[] {
  const lines: string[] = []
  if (r.status === 'errored') lines.push(c.red(`${r.error.code ? `${r.error.code}: ` : ''}${r.error.message}`))
  if (r.status === 'failed') for (const f of r.failures) lines.push(c.red(f))
  if (r.status === 'passed' || r.status === 'failed') {
    for (const v of r.slo) if (v.pass) lines.push(c.dim(`SLO ${describeVerdict(v)}`))
    if (r.requests.errors > 0) lines.push(c.yellow(`${r.requests.errors} request errors, e.g. ${r.firstError ?? 'unknown'}`))
    const attempts = r.attempts && r.attempts > 1 ? ` (after ${r.attempts} measurements)` : ''
    if (!r.stability.stable) lines.push(c.yellow(`unstable${attempts}: ${r.stability.reason}`))
    else if (attempts) lines.push(c.dim(`stable on measurement ${r.attempts}: the first was unstable`))
    // Thin-tail notes apply to most short runs; they stay in the JSON report rather than on every line.
    for (const w of r.validity.warnings) if (!w.code.startsWith('thin-tail')) lines.push(c.yellow(`note: ${w.message}; ${w.fix}`))
    if (r.mlperf) lines.push(...mlperfLines(r.mlperf))
    const skipped = (r.backendInfo?.pipeline as { skipped?: Array<{ source: string; reason: string }> } | undefined)?.skipped
    if (skipped?.length) lines.push(c.yellow(`skipped ${skipped.length} bad data item${skipped.length === 1 ? '' : 's'} (onBadItem: 'skip'), e.g. ${skipped[0]!.source}: ${skipped[0]!.reason}`))
    if (r.stages && r.stageSum) {
      // The pipeline's own breakdown supersedes the coarser server split below.
      const parts = Object.entries(r.stages).map(([name, s]) => `${name} ${fmtMs(s.mean)}`)
      lines.push(c.dim(`mean ${fmtMs(r.latency.mean)}ms by stage: ${parts.join(' + ')} (sum ${fmtMs(r.stageSum.sumOfMeansMs)})`))
    } else if (r.serverTimings) {
      const { queueMs = 0, computeMs = 0 } = r.serverTimings
      const clientQueueMs = r.clientQueue?.meanMs ?? 0
      const rest = r.latency.mean - queueMs - computeMs - clientQueueMs
      const waited = clientQueueMs > 0 ? `client queue ${fmtMs(clientQueueMs)} + ` : ''
      lines.push(c.dim(`mean ${fmtMs(r.latency.mean)}ms = ${waited}client+network ${fmtMs(rest)} + queue ${fmtMs(queueMs)} + compute ${fmtMs(computeMs)} (server ${r.serverTimings.source})`))
    }
    if (r.clientQueue) lines.push(c.yellow(`${r.clientQueue.queuedAnswers} requests waited in the client for a free connection (mean ${fmtMs(r.clientQueue.meanMs)}ms over all answers); raise connections to send them at once`))
    if (r.sendDelay && r.sendDelay.mean > 0.2) lines.push(c.dim(`sends left ${fmtMs(r.sendDelay.mean)}ms after their intended time on average (p99 ${fmtMs(r.sendDelay.p99)}ms); latency includes it`))
    if (r.idleCheck && r.idleCheck.waitedMs > 0 && r.settings?.measurement && typeof r.settings.measurement.idle === 'object') {
      const window = (r.settings.measurement.idle as { window: number }).window
      if (r.idleCheck.waitedMs > window * 1.5) lines.push(c.dim(`waited ${fmtMs(r.idleCheck.waitedMs / 1000)}s for a quiet machine (measurement.idle)`))
    }
    const probes = probeLine(r)
    if (probes) lines.push(c.dim(probes))
    const cost = costLine(r)
    if (cost) lines.push(c.dim(cost))
    if (r.peak) {
      const steps = r.peak.steps.map((st) => `${Math.round(st.rate).toLocaleString('en-US')}${st.meets ? '✓' : `✗${stepCause(st.why)}`}`).join(' ')
      const rps = r.peak.goodputRps !== undefined ? Math.round(r.peak.goodputRps).toLocaleString('en-US') : ''
      lines.push(r.peak.goodputRps === undefined
        ? c.yellow(`findPeak: no rate met ${r.peak.slo}; steps (req/s): ${steps}; figures above: the step nearest the limits`)
        : r.peak.boundBy === 'load-generator'
          ? c.yellow(`goodput ≥ ${rps} req/s within ${r.peak.slo}: the load generator could not send faster on time, so the SLO's limit was not reached; steps (req/s): ${steps}`)
          : c.cyan(`goodput ${rps} req/s (${Math.round(r.peak.goodputSamplesPerSec!).toLocaleString('en-US')} samples/s) within ${r.peak.slo}; figures above at that rate; steps (req/s): ${steps}`))
    }
    if (r.ramp) {
      lines.push(c.cyan(`ramp (offered → answered req/s, p99): ${r.ramp.steps.map((st) => `${Math.round(st.rate).toLocaleString('en-US')} → ${Math.round(st.achievedRps).toLocaleString('en-US')}, ${fmtMs(st.p99)}ms${st.meets ? '' : ` ✗${stepCause(st.why)}`}`).join(' · ')}; figures above: the highest valid step`))
    }
    if (r.extra) lines.push(c.cyan(Object.entries(r.extra).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`).join(', ')))
  }
  return lines
}

/** Why a peak-search step failed, in a word: 'late' (sends), 'slo', 'invalid' or 'unstable'. */
function stepCause(why: string | undefined): string {
  if (!why) return ''
  if (why.includes('late-sends')) return 'late'
  return why.startsWith('invalid') ? 'invalid' : why.startsWith('unstable') ? 'unstable' : 'slo'
}

/** Probe means and peaks in one line: `cpu 98% of a core (peak 100%), machine 51%; rss 189 MiB; gpu0 87%, 212 W`. */
function probeLine(r: Extract<JobReport, { status: 'passed' | 'failed' }>): string | undefined {
  if (!r.probes) return undefined
  const parts: string[] = []
  const mean = (probe: string, series: string) => {
    const p = r.probes?.[probe]
    return p?.available ? p.summary[series] : undefined
  }
  const cpu = mean('cpu', 'processCpuPct')
  const machine = mean('cpu', 'systemCpuPct')
  if (cpu) parts.push(`cpu ${Math.round(cpu.mean)}% of a core (peak ${Math.round(cpu.max)}%)${machine ? `, machine ${Math.round(machine.mean)}%` : ''}`)
  const rss = mean('memory', 'processRssMiB')
  if (rss) parts.push(`rss ${Math.round(rss.max)} MiB`)
  const gpu = r.probes.nvidia
  if (gpu?.available) {
    for (const [series, s] of Object.entries(gpu.summary)) {
      const m = /^gpu(\d+)(UtilPct|PowerW)$/.exec(series)
      if (m) parts.push(`gpu${m[1]} ${m[2] === 'UtilPct' ? `${Math.round(s.mean)}%` : `${Math.round(s.mean)} W`}`)
    }
  }
  // A probe that could not run says so here too, not only in the JSON report.
  for (const [name, result] of Object.entries(r.probes)) if (!result.available) parts.push(`${name} unavailable: ${result.reason}`)
  return parts.length ? parts.join('; ') : undefined
}

/** `energy 1.9 J/req (estimated) · CO2 0.25 g/1k req (US grid) · $0.93 per 1M req (aws:c7i.xlarge)`. */
function costLine(r: Extract<JobReport, { status: 'passed' | 'failed' }>): string | undefined {
  const cost = r.cost
  if (!cost) return undefined
  const parts: string[] = []
  if (cost.energy) parts.push(`energy ${fmtSignificant(cost.energy.perRequestJ)} J/req (${cost.energy.basis}, ${fmtSignificant(cost.energy.powerW)} W)`)
  if (cost.co2) parts.push(`CO2 ${fmtSignificant(cost.co2.perRequestG * 1000)} g/1k req (${cost.co2.grid}, ${cost.co2.gramsPerKWh} g/kWh)`)
  if (cost.cloud) parts.push(`$${fmtSignificant(cost.cloud.perMillionRequestsUsd)} per 1M req (${cost.cloud.instance})`)
  // Why energy (and so CO2) is missing; a missing cloud price is the default, not news on every job.
  if (!cost.energy) parts.push(...(cost.missing ?? []).filter((m) => m.startsWith('energy')))
  return parts.length ? parts.join(' · ') : undefined
}

/** Three significant figures, without exponent notation for the sizes seen here. */
function fmtSignificant(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v)
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString()
}

function suiteTable(jobs: JobReport[]): string {
  const axisKeys = [...new Set(jobs.flatMap((j) => Object.keys(j.params)))]
    .filter((k) => new Set(jobs.map((j) => String(j.params[k]))).size > 1 || k === 'model' || k === 'batch')
  const cpuOf = (j: JobReport) => { const p = measured(j)?.probes?.cpu; return p?.available ? p.summary.processCpuPct?.mean : undefined }
  const energyOf = (j: JobReport) => measured(j)?.cost?.energy?.perRequestJ
  const withCpu = jobs.some((j) => cpuOf(j) !== undefined)
  const withEnergy = jobs.some((j) => energyOf(j) !== undefined)
  const header = ['', 'bench', ...axisKeys, 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'samples/s', 'ok', 'err', 'late', 'cold ms',
    ...(withCpu ? ['cpu %'] : []), ...(withEnergy ? ['J/req'] : []), 'stable']
  const rows = jobs.map((j) => {
    const m = measured(j)
    const cpu = cpuOf(j)
    const energy = energyOf(j)
    return [
      SYMBOL[j.status], j.name, ...axisKeys.map((k) => (j.params[k] === undefined ? '' : String(j.params[k]))),
      fmtMs(m?.latency.p50), fmtMs(m?.latency.p90), fmtMs(m?.latency.p99), fmtMs(m?.latency.max),
      fmtRate(m?.throughput.requestsPerSec), fmtRate(m?.throughput.samplesPerSec),
      m ? String(m.requests.ok) : '-', m ? String(m.requests.errors) : '-', m ? String(m.requests.late) : '-',
      fmtMs(m?.coldStartMs),
      ...(withCpu ? [cpu === undefined || !Number.isFinite(cpu) ? '-' : String(Math.round(cpu))] : []),
      ...(withEnergy ? [energy === undefined ? '-' : fmtSignificant(energy)] : []),
      !m ? '-' : j.status === 'errored' ? 'partial' : m.stability.stable && m.validity.valid ? 'yes' : m.validity.valid ? 'no' : 'invalid',
    ]
  })
  return table(header, rows)
}

function indent(text: string): string {
  return text.split('\n').map((l) => `   ${l}`).join('\n')
}

/**
 * The live line must fit the terminal: a wrapped line cannot be erased with a carriage return.
 * The name is shortened first, so the progress figures stay visible.
 */
function fitLine(name: string, status: string, columns: number): string {
  const room = Math.max(10, columns - 1 - status.length)
  const shown = name.length > room ? `${name.slice(0, room - 1)}…` : name
  return `${c.yellow(shown.slice(0, 2))}${shown.slice(2)}${c.dim(status)}`
}

/** LoadGen's summary in two lines: the metric and its verdict, then the rules the run did not meet. */
function mlperfLines(m: MlperfResult): string[] {
  const value = m.metric.unit === 'ms' ? `${fmtMs(m.metric.value)} ms` : `${m.metric.value.toFixed(1)} ${m.metric.unit}`
  const bound = m.latencyBound ? `; p99 ${fmtMs(m.latencyBound.percentileMs)} ms ${m.latencyBound.met ? '≤' : '>'} bound ${fmtMs(m.latencyBound.boundMs)} ms` : ''
  const lines = [`MLPerf ${m.scenario}: ${m.metric.name} ${value}${bound}${m.earlyStopping ? `; early stopping: ${m.earlyStopping.detail}` : ''}`]
  const unmet = m.minimums.filter((r) => !r.met).map((r) => `${r.rule} ${r.actual.toLocaleString('en-US', { maximumSignificantDigits: 3 })} < ${r.required.toLocaleString('en-US')}`)
  lines.push(m.valid ? 'LoadGen rules met: a valid result' : `not a valid MLPerf result${unmet.length ? ` (below LoadGen's minimums: ${unmet.join(', ')}): a performance estimate` : ''}`)
  return lines.map((l, i) => (i === 0 ? c.dim(l) : m.valid ? c.dim(l) : c.yellow(l)))
}
