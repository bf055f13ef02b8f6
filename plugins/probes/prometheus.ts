import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format'

/** One scrape: each kept series' value, and which of them are counters (reported as rates). */
export interface Scrape {
  values: Map<string, number>
  counters: Set<string>
}

/**
 * Parses Prometheus text exposition and keeps the series whose metric name matches one of the
 * patterns (`*` is any run of characters). A series is named `metric{label="value",...}` with its
 * labels sorted; a histogram or summary keeps its `_count` and `_sum`, as counters.
 */
export function scrapeSeries(text: string, patterns: readonly string[]): Scrape {
  const keep = patterns.map(globToRegExp)
  const values = new Map<string, number>()
  const counters = new Set<string>()
  for (const family of parsePrometheusTextFormat(text) as PrometheusFamily[]) {
    if (!keep.some((re) => re.test(family.name))) continue
    for (const m of family.metrics) {
      const labels = seriesLabels(m.labels)
      const put = (name: string, raw: string | undefined, counter: boolean) => {
        const value = Number(raw)
        if (raw === undefined || Number.isNaN(value)) return
        const key = `${name}${labels}`
        values.set(key, value)
        if (counter) counters.add(key)
      }
      if (family.type === 'HISTOGRAM' || family.type === 'SUMMARY') {
        put(`${family.name}_count`, m.count, true)
        put(`${family.name}_sum`, m.sum, true)
      } else {
        put(family.name, m.value, family.type === 'COUNTER')
      }
    }
  }
  return { values, counters }
}

/**
 * Gauges as they are; counters as their increase per second since the previous scrape (a counter
 * that went down was reset: its new value is the increase, as Prometheus' rate() assumes; one
 * that was absent is new, and counts from zero).
 */
export function seriesSample(previous: Scrape, next: Scrape, seconds: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of next.values) {
    if (!next.counters.has(key)) out[key] = value
    else {
      if (seconds <= 0) continue
      // A series the previous scrape did not have started since (a model's first request): from zero.
      const before = previous.values.get(key) ?? 0
      out[rateName(key)] = (value >= before ? value - before : value) / seconds
    }
  }
  return out
}

/** `name{labels}` → `name_per_s{labels}`. */
function rateName(key: string): string {
  const brace = key.indexOf('{')
  return brace < 0 ? `${key}_per_s` : `${key.slice(0, brace)}_per_s${key.slice(brace)}`
}

function seriesLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b))
  return entries.length ? `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}` : ''
}

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`)
}
