/** Fixed-width numbers for tables: latency in ms with sensible precision, rates with thousands. */
export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-'
  if (ms === 0) return '0'
  if (ms < 0.01) return `${(ms * 1000).toFixed(2)}µs`
  if (ms < 1) return ms.toFixed(3)
  if (ms < 100) return ms.toFixed(2)
  return ms.toFixed(0)
}

export function fmtRate(perSec: number | undefined): string {
  if (perSec === undefined || !Number.isFinite(perSec)) return '-'
  if (perSec >= 100) return Math.round(perSec).toLocaleString('en-US')
  return perSec.toFixed(perSec >= 10 ? 1 : 2)
}

/** Renders rows as an aligned text table; numeric-looking cells are right-aligned. */
export function table(header: string[], rows: string[][], colorize?: (row: number, col: number, text: string) => string): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))))
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-\d.,µs%]+$/.test(r[i] ?? '-')))
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(Math.max(0, widths[i]! - visibleLength(text)))
    return numeric[i] ? gap + text : text + gap
  }
  const lines = [header.map(pad).join('  ')]
  rows.forEach((r, ri) => lines.push(r.map((cell, ci) => {
    const padded = pad(cell, ci)
    return colorize ? colorize(ri, ci, padded) : padded
  }).join('  ')))
  return lines.join('\n')
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length
}
