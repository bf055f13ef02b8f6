import c from 'picocolors'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { hardwareLabel, type Fingerprint } from '../core/fingerprint.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobReport, Measurement } from '../core/report.ts'
import { costPerMillionSamples, leaderboardEntry } from '../reporters/analysis/leaderboard.ts'
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
  cost: { label: '$/1M samples', pick: costPerMillionSamples, descending: false },
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
    out.write(`${JSON.stringify(shown.map((r) => leaderboardEntry(r.job, r.fingerprint, r.runs)), null, 2)}\n`)
    return EXIT.ok
  }
  if (shown.length === 0) {
    out.write(`no stored configuration${filters.length ? ' matches the filters' : ''}\n`)
    return EXIT.ok
  }
  const header = ['#', 'bench', 'model', 'backend', 'batch', 'options', 'hardware', 'workload', 'p50', 'p99', 'samples/s', 'J/sample', '$/1M', 'SLO', 'measurement']
  const table = shown.map((r, i) => {
    const e = leaderboardEntry(r.job, r.fingerprint, r.runs)
    const options = Object.entries(e.params).filter(([k]) => !['model', 'backend', 'batch'].includes(k)).map(([k, v]) => `${k}=${v}`).join(', ')
    return [String(i + 1), e.name, String(e.params.model ?? '-'), String(e.params.backend ?? '-'), String(r.job.batch), options || '-', e.hardware, e.workload ?? '-',
      formatMs(e.p50), formatMs(e.p99), Math.round(e.samplesPerSec).toLocaleString('en-US'),
      e.energyPerSampleJ === undefined ? '-' : e.energyPerSampleJ.toPrecision(3), e.usdPerMillionSamples === undefined ? '-' : e.usdPerMillionSamples.toPrecision(3), e.slo, e.measurement]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)))
  out.write(`\n ${c.bold('leaderboard')}  ${rows.length} configuration${rows.length === 1 ? '' : 's'}, by ${sortName}${filters.length ? `, ${flags.filter!.join(' ')}` : ''}${rows.length > limit ? ` (top ${limit})` : ''}\n\n`)
  out.write(`  ${header.map((h, i) => c.dim(h.padEnd(widths[i]!))).join('  ')}\n`)
  for (const row of table) out.write(`  ${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`)
  const withoutFigure = shown.filter((r) => key(r) === undefined).length
  if (withoutFigure) out.write(c.dim(`\n  ${withoutFigure} without a ${sortName} figure, listed last${sortName === 'cost' ? ' (set cost.instance)' : sortName === 'energy' ? ' (add the cpu or rapl probe)' : ''}\n`))
  return EXIT.ok
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
