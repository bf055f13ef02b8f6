import { readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { parseOptions } from './parse-options.ts'
import { InferbenchError, type WorkloadFactory } from '../../core/plugin-api.ts'

const schema = z.strictObject({
  file: z.string().min(1),
  /** Units of the times in the file. */
  unit: z.enum(['s', 'ms', 'us']).default('s'),
  /** The column (CSV header name, or JSONL key) holding each request's arrival time. */
  column: z.string().min(1).default('arrival'),
  /** Replay faster (2) or slower (0.5) than recorded. */
  speed: z.number().positive().default(1),
  maxOutstanding: z.number().int().positive().optional(),
})

const TO_MS = { s: 1000, ms: 1, us: 0.001 } as const

/**
 * `workload.trace({ file: 'arrivals.csv' })`: replays recorded arrival times (a production log,
 * an Azure Functions or Alibaba trace) as an open loop. CSV with a header naming `column` (or a
 * single unnamed column), or JSONL with that key; times are offsets or timestamps, shifted so the
 * first request is sent at once, and divided by `speed`. A bad line is named by file and line.
 */
export const trace: WorkloadFactory = (options) => {
  const o = parseOptions(schema, options)
  if (!isAbsolute(o.file)) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `file: expected an absolute path (workload.trace resolves a relative one from the bench file), received ${o.file}`)
  let text: string
  try {
    text = readFileSync(o.file, 'utf8')
  } catch (error) {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `file: cannot read ${o.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const times = /\.jsonl$/i.test(o.file) ? fromJsonl(text, o.file, o.column) : fromCsv(text, o.file, o.column)
  if (times.length === 0) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${o.file}: no arrival times`)
  // A loop, not Math.min(...times): a recorded trace has hundreds of thousands of lines.
  let first = Number.POSITIVE_INFINITY
  for (const t of times) if (t < first) first = t
  const arrivals = Float64Array.from(times.map((t) => ((t - first) * TO_MS[o.unit]) / o.speed)).sort()
  const durationMs = arrivals[arrivals.length - 1]! + 1
  return {
    kind: 'open', label: `trace(${o.file.split('/').pop()}, ${arrivals.length} requests${o.speed !== 1 ? `, ×${o.speed}` : ''})`,
    offeredRate: (arrivals.length * 1000) / durationMs, durationMs, arrivalsMs: arrivals,
    ...(o.maxOutstanding ? { maxOutstanding: o.maxOutstanding } : {}),
  }
}

function fromCsv(text: string, file: string, column: string): number[] {
  const lines = text.split(/\r?\n/)
  const header = lines[0]!.split(',').map((h) => h.trim())
  const hasHeader = header.some((h) => h !== '' && !Number.isFinite(Number(h)))
  const index = hasHeader ? header.indexOf(column) : 0
  if (hasHeader && index < 0) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${file}:1: no column '${column}' (columns: ${header.join(', ')}); set column`)
  const times: number[] = []
  lines.forEach((line, i) => {
    if ((hasHeader && i === 0) || line.trim() === '') return
    const value = Number(line.split(',')[index])
    if (!Number.isFinite(value)) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${file}:${i + 1}: '${line.slice(0, 60)}' has no number in column ${hasHeader ? `'${column}'` : 1}`)
    times.push(value)
  })
  return times
}

function fromJsonl(text: string, file: string, column: string): number[] {
  const times: number[] = []
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return
    let value: unknown
    try {
      value = (JSON.parse(line) as Record<string, unknown>)[column]
    } catch {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${file}:${i + 1}: not JSON`)
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${file}:${i + 1}: no number under '${column}'`)
    times.push(value)
  })
  return times
}
