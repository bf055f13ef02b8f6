import type { ContainerRef, PluginRegistry, Probe } from '../core/plugin.ts'
import type { ProbeResult } from '../core/report.ts'

export interface RunningProbes {
  stop(): Promise<Record<string, ProbeResult>>
}

/**
 * Starts the named probes for a measurement and samples them every `intervalMs` in the
 * background (timers, unref'd; a sample that is still pending when the next is due is skipped,
 * never queued). A probe that cannot run here says why; one that fails mid-way keeps what it had.
 */
export interface ProbeTargets {
  pids: number[]
  metricsUrl?: string
  containers?: ContainerRef[]
  /** measurement.probeOptions: each probe's own options by name. */
  options: Readonly<Record<string, Record<string, unknown>>>
}

export async function startProbes(names: readonly string[], registry: PluginRegistry, targets: ProbeTargets, intervalMs: number): Promise<RunningProbes> {
  const started = performance.now()
  const results: Record<string, ProbeResult> = {}
  const live: Array<{ name: string; probe: Probe; atMs: number[]; series: Record<string, number[]>; busy: boolean; failed?: string }> = []
  for (const name of names) {
    try {
      const made = await registry.probe(name)({
        pids: targets.pids, options: targets.options[name] ?? {},
        ...(targets.metricsUrl ? { metricsUrl: targets.metricsUrl } : {}), ...(targets.containers ? { containers: targets.containers } : {}),
      })
      if ('unavailable' in made) {
        results[name] = { available: false, reason: made.unavailable }
        continue
      }
      const info = made.describe ? await made.describe() : undefined
      live.push({ name, probe: made, atMs: [], series: {}, busy: false })
      if (info) results[name] = { available: true, info, summary: {}, samples: { atMs: [], series: {} } }
    } catch (error) {
      results[name] = { available: false, reason: (error as Error).message }
    }
  }
  const tick = () => {
    for (const p of live) {
      if (p.busy || p.failed) continue
      p.busy = true
      const at = performance.now() - started
      Promise.resolve().then(() => p.probe.sample()).then((values) => {
        p.atMs.push(at)
        const index = p.atMs.length - 1
        for (const [key, value] of Object.entries(values)) {
          // A series that appears late is padded with NaN before it (JSON null), never with zeros.
          const column = p.series[key] ??= new Array<number>(index).fill(Number.NaN)
          column.push(value)
        }
        for (const column of Object.values(p.series)) if (column.length < index + 1) column.push(Number.NaN)
      }, (error: unknown) => { p.failed = (error as Error).message }).finally(() => { p.busy = false })
    }
  }
  const timer = live.length ? setInterval(tick, intervalMs) : undefined
  timer?.unref()
  return {
    async stop() {
      if (timer) clearInterval(timer)
      // The last sample covers the end of the measurement, unless one was just taken: a sample
      // over a few milliseconds is mostly quantisation noise (CPU ticks are 10 ms).
      const sinceLast = performance.now() - started - Math.max(0, ...live.map((p) => p.atMs.at(-1) ?? 0))
      if (sinceLast >= intervalMs / 2 || live.every((p) => p.atMs.length === 0)) tick()
      await new Promise<void>((resolve) => {
        const wait = () => (live.some((p) => p.busy) ? setTimeout(wait, 1) : resolve())
        wait()
      })
      for (const p of live) {
        const existing = results[p.name]
        // Each sample stands for the time since the one before it (rates such as CPU % are over
        // exactly that span), so the mean is weighted by it: a short last span counts for little.
        const spans = p.atMs.map((at, i) => at - (i === 0 ? 0 : p.atMs[i - 1]!))
        const summary = Object.fromEntries(Object.entries(p.series).map(([key, values]) => {
          let weighted = 0
          let weight = 0
          let max = Number.NaN
          values.forEach((v, i) => {
            if (!Number.isFinite(v)) return
            weighted += v * spans[i]!
            weight += spans[i]!
            max = Number.isNaN(max) ? v : Math.max(max, v)
          })
          return [key, { mean: weight > 0 ? weighted / weight : Number.NaN, max }]
        }))
        if (p.failed && p.atMs.length === 0) {
          results[p.name] = { available: false, reason: `failed while sampling: ${p.failed}` }
          continue
        }
        results[p.name] = {
          available: true, ...(existing?.available && existing.info ? { info: existing.info } : {}), summary,
          samples: { atMs: p.atMs.map((t) => Math.round(t)), series: p.series },
        }
      }
      return results
    },
  }
}
