// No zod here: `serve` parses its durations with this alone, and holds nothing it does not use.

const UNIT_MS: Record<string, number> = { us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)\s*$/

/** Parses '50ms', '1.5s', '2m', '250us' or a plain number of milliseconds. Returns undefined when malformed. */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined
  const match = DURATION.exec(value)
  if (!match) return undefined
  return Number(match[1]) * UNIT_MS[match[2]!]!
}

export function formatMs(ms: number): string {
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)}m`
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)}s`
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : ms >= 10 ? 1 : 2)}ms`
  return `${(ms * 1000).toFixed(0)}µs`
}

export const DURATION_FORMS = `a duration like '500ms', '10s', '2m' or a number of milliseconds`
