import { InferbenchError } from '../errors.ts'
import type { JobStream } from './simulate.ts'

/**
 * A job trace as CSV: `arrival,duration[,estimate]` in seconds, one job per line, an optional
 * header line naming those columns. Without an estimate column (or an empty cell) the estimate is
 * the duration. Every bad line is named by file and line number.
 */
export function parseTrace(text: string, file: string): JobStream {
  const lines = text.split(/\r?\n/)
  const arrival: number[] = []
  const duration: number[] = []
  const estimate: number[] = []
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const cells = line.split(',').map((c) => c.trim())
    if (arrival.length === 0 && i === firstContentLine(lines) && cells.some((c) => c !== '' && Number.isNaN(Number(c))) && !/^arrival$/i.test(cells[0] ?? '')) {
      throw new InferbenchError('INFERBENCH_USAGE', `${file}:${i + 1}: header: expected arrival,duration[,estimate] (seconds, in that order), found ${line}`)
    }
    if (arrival.length === 0 && i === firstContentLine(lines) && /^arrival$/i.test(cells[0] ?? '')) {
      if (cells[1]?.toLowerCase() !== 'duration' || (cells[2] !== undefined && cells[2].toLowerCase() !== 'estimate') || cells.length > 3) {
        throw new InferbenchError('INFERBENCH_USAGE', `${file}:${i + 1}: header: expected arrival,duration[,estimate], found ${line}`)
      }
      return
    }
    if (cells.length < 2 || cells.length > 3) {
      throw new InferbenchError('INFERBENCH_USAGE', `${file}:${i + 1}: expected arrival,duration[,estimate] in seconds, found ${JSON.stringify(line)}`)
    }
    const [a, d, e] = cells.map((c, k) => (c === '' && k === 2 ? undefined : Number(c)))
    const bad = (name: string, v: number | undefined, min: string) => `${file}:${i + 1}: ${name}: expected a number ${min}, found ${JSON.stringify(v === undefined ? '' : cells[['arrival', 'duration', 'estimate'].indexOf(name)])}`
    if (a === undefined || !Number.isFinite(a) || a < 0) throw new InferbenchError('INFERBENCH_USAGE', bad('arrival', a, '≥ 0'))
    if (d === undefined || !Number.isFinite(d) || d <= 0) throw new InferbenchError('INFERBENCH_USAGE', bad('duration', d, '> 0'))
    if (e !== undefined && (!Number.isFinite(e) || e <= 0)) throw new InferbenchError('INFERBENCH_USAGE', bad('estimate', e, '> 0'))
    arrival.push(a)
    duration.push(d)
    estimate.push(e ?? d)
  })
  if (arrival.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `${file}: no jobs (expected lines of arrival,duration[,estimate] in seconds)`)
  return { arrival: Float64Array.from(arrival), duration: Float64Array.from(duration), estimate: Float64Array.from(estimate) }
}

function firstContentLine(lines: string[]): number {
  return lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'))
}
