import c from 'picocolors'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { hardwareLabel, type Fingerprint } from '../core/fingerprint.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobReport, Measurement } from '../core/report.ts'
import { openDb } from './store-command.ts'

export interface LeaderboardFlags {
  sort?: string
  filter?: string[]
  limit?: string
  config?: string
  db?: string
  json?: boolean
}

const SORTS = {
  throughput: { label: 'samples/s', pick: (m: Measurement) => m.throughput.samplesPerSec, descending: true },
  p50: { label: 'p50', pick: (m: Measurement) => m.latency.p50, descending: false },
  p99: { label: 'p99', pick: (m: Measurement) => m.latency.p99, descending: false },
  energy: { label: 'J/sample', pick: (m: Measurement) => m.cost?.energy?.perSampleJ, descending: false },
  cost: { label: '$/1M samples', pick: (m: Measurement) => (m.cost?.cloud ? m.cost.cloud.perMillionRequestsUsd / m.batch : undefined), descending: false },
} as const

interface Row {
  job: JobReport & Measurement
  fingerprint: Fingerprint
  runs: number
}

/**
 * `inferbench leaderboard [--sort p99] [--filter backend=server] [--limit n]`: every stored
 * configuration (its latest result) ranked: model, backend, hardware, batch, workload, latency,
 * throughput, energy, cost and SLO status. A configuration without the sort's figure goes last.
 */
export async function leaderboardCommand(flags: LeaderboardFlags, cwd: string, out: TextSink): Promise<number> {
  const sortName = (flags.sort ?? 'throughput') as keyof typeof SORTS
  const sort = SORTS[sortName]
  if (!sort) throw new InferbenchError('INFERBENCH_USAGE', `--sort: expected one of ${Object.keys(SORTS).join(', ')}, received '${flags.sort}'`)
  const filters = (flags.filter ?? []).map(parseFilter)
  const limit = flags.limit === undefined ? 30 : Number(flags.limit)
  if (!Number.isInteger(limit) || limit < 1) throw new InferbenchError('INFERBENCH_USAGE', `--limit: expected a positive integer, received '${flags.limit}'`)
  const { db } = await openDb(flags, cwd, true)
  let rows: Row[]
  try {
    const all = db.configurations().filter((x) => x.latest.report.kind === 'serving')
      .map((x) => ({ job: x.latest.report as JobReport & Measurement, fingerprint: x.fingerprint, runs: x.runs }))
    checkFilterKeys(filters, all)
    rows = all.filter((r) => filters.every((f) => f.test(r)))
  } finally {
    db.close()
  }
  const key = (r: Row) => sort.pick(r.job)
  rows.sort((a, b) => {
    const x = key(a)
    const y = key(b)
    if (x === undefined || y === undefined) return x === undefined ? (y === undefined ? 0 : 1) : -1
    return sort.descending ? y - x : x - y
  })
  const shown = rows.slice(0, limit)
  if (flags.json) {
    out.write(`${JSON.stringify(shown.map((r) => ({ id: r.job.id, suite: r.job.suite, name: r.job.name, params: r.job.params, hardware: hardwareLabel(r.fingerprint), workload: r.job.settings?.workload.label, p50: r.job.latency.p50, p99: r.job.latency.p99, samplesPerSec: r.job.throughput.samplesPerSec, energyPerSampleJ: r.job.cost?.energy?.perSampleJ, usdPerMillionSamples: SORTS.cost.pick(r.job), slo: slo(r.job), runs: r.runs })), null, 2)}\n`)
    return EXIT.ok
  }
  if (shown.length === 0) {
    out.write(`no stored configuration${filters.length ? ' matches the filters' : ''}\n`)
    return EXIT.ok
  }
  const header = ['#', 'bench', 'model', 'backend', 'batch', 'options', 'hardware', 'workload', 'p50', 'p99', 'samples/s', 'J/sample', '$/1M', 'SLO', 'measurement']
  const table = shown.map((r, i) => {
    const m = r.job
    const energy = m.cost?.energy?.perSampleJ
    const cost = SORTS.cost.pick(m)
    const options = Object.entries(m.params).filter(([k]) => !['model', 'backend', 'batch'].includes(k)).map(([k, v]) => `${k}=${v}`).join(', ')
    const measurement = m.validity?.valid === false ? 'invalid' : m.stability?.stable === false ? 'unstable' : 'ok'
    return [String(i + 1), m.name, String(m.params.model ?? '-'), String(m.params.backend ?? '-'), String(m.batch), options || '-', hardwareLabel(r.fingerprint), m.settings?.workload.label ?? '-',
      formatMs(m.latency.p50), formatMs(m.latency.p99), Math.round(m.throughput.samplesPerSec).toLocaleString('en-US'),
      energy === undefined ? '-' : energy.toPrecision(3), cost === undefined ? '-' : cost.toPrecision(3), slo(m), measurement]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
  out.write(`\n ${c.bold('leaderboard')}  ${rows.length} configuration${rows.length === 1 ? '' : 's'}, by ${sortName}${filters.length ? `, ${flags.filter!.join(' ')}` : ''}${rows.length > limit ? ` (top ${limit})` : ''}\n\n`)
  out.write(`  ${header.map((h, i) => c.dim(h.padEnd(widths[i]!))).join('  ')}\n`)
  for (const row of table) out.write(`  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`)
  const withoutFigure = shown.filter((r) => key(r) === undefined).length
  if (withoutFigure) out.write(c.dim(`\n  ${withoutFigure} without a ${sortName} figure, listed last${sortName === 'cost' ? ' (set cost.instance)' : sortName === 'energy' ? ' (add the cpu or rapl probe)' : ''}\n`))
  return EXIT.ok
}

function slo(m: JobReport): string {
  if (!m.slo.length) return '-'
  return m.slo.every((v) => v.pass) ? 'met' : `missed ${m.slo.filter((v) => !v.pass).map((v) => v.metric).join(', ')}`
}


interface Filter { key: string; test: (r: Row) => boolean }

/** `backend=server` (equal) or `model~resnet` (contains), on a parameter, the workload, the hardware or the bench name. */
function parseFilter(text: string): Filter {
  const m = /^([\w.]+)(=|~)(.*)$/.exec(text)
  if (!m) throw new InferbenchError('INFERBENCH_USAGE', `--filter: expected key=value (equal) or key~text (contains), e.g. backend=server or model~resnet, received '${text}'`)
  const [, key, op, v] = m
  const field = (r: Row): string | undefined => {
    if (key === 'workload') return r.job.settings?.workload.label
    if (key === 'hardware') return hardwareLabel(r.fingerprint)
    if (key === 'bench') return `${r.job.suite} > ${r.job.name}`
    const actual = r.job.params[key!]
    return actual === undefined ? undefined : String(actual)
  }
  return { key: key!, test: (r) => { const actual = field(r); return actual !== undefined && (op === '=' ? actual === v : actual.includes(v!)) } }
}

/** A filter on a key no stored configuration has is a typo, not an empty answer. */
function checkFilterKeys(filters: Filter[], rows: Row[]): void {
  const known = new Set(['workload', 'hardware', 'bench', ...rows.flatMap((r) => Object.keys(r.job.params))])
  for (const f of filters) {
    if (!known.has(f.key)) throw new InferbenchError('INFERBENCH_USAGE', `--filter: no stored configuration has '${f.key}'; keys: ${[...known].join(', ')}`)
  }
}
