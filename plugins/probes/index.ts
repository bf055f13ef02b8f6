import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import { z } from 'zod'
import { definePlugin, zodIssuesToMessage, type Plugin, type Probe, type ProbeFactory } from '../../core/plugin-api.ts'
import { NVIDIA_QUERY_FIELDS, parseNvidiaSmiCsv } from './nvidia-smi.ts'
import { readMemInfo, readProcessRss, readProcessTicks, readSystemCpu } from './proc.ts'
import { loadDockerode } from '../shared/load-dockerode.ts'
import { containerCounters, containerSample, type ContainerCounters, type DockerStats } from './docker-stats.ts'
import { scrapeSeries, seriesSample, type Scrape } from './prometheus.ts'
import { POWERCAP_ROOT, energyDeltaUj, raplZones, readEnergyUj } from './rapl.ts'

/** Clock ticks per second of /proc/<pid>/stat times: USER_HZ, 100 on every mainstream Linux. */
const USER_HZ = 100

const needsProc = (): { unavailable: string } | undefined =>
  (existsSync('/proc/stat') ? undefined : { unavailable: `reads Linux /proc, which this system (${os.platform()}) does not have` })

/** `cpu`: the machine's utilisation (all cores, %) and the job's processes' (% of one core, summed). */
const cpu: ProbeFactory = async ({ pids }) => {
  const missing = needsProc()
  if (missing) return missing
  let system = readSystemCpu()
  let ticks = new Map(pids.map((pid) => [pid, readProcessTicks(pid) ?? 0]))
  let at = performance.now()
  const probe: Probe = {
    describe: () => ({ cores: os.cpus().length, model: os.cpus()[0]?.model.trim() ?? 'unknown' }),
    sample: () => {
      const now = performance.now()
      const nextSystem = readSystemCpu()
      const nextTicks = new Map(pids.map((pid) => [pid, readProcessTicks(pid)]))
      let processTicks = 0
      for (const [pid, t] of nextTicks) if (t !== undefined) processTicks += t - (ticks.get(pid) ?? t)
      const total = nextSystem.total - system.total
      const sample = {
        systemCpuPct: total > 0 ? ((nextSystem.busy - system.busy) / total) * 100 : 0,
        processCpuPct: ((processTicks / USER_HZ) / ((now - at) / 1000)) * 100,
      }
      system = nextSystem
      ticks = new Map([...nextTicks].map(([pid, t]) => [pid, t ?? 0]))
      at = now
      return sample
    },
  }
  return probe
}

/** `memory`: the job's processes' resident memory (summed) and the machine's memory in use. */
const memory: ProbeFactory = async ({ pids }) => {
  const missing = needsProc()
  if (missing) return missing
  return {
    describe: () => ({ totalMiB: Math.round(readMemInfo().totalBytes / 2 ** 20) }),
    sample: () => {
      const rss = pids.map((pid) => readProcessRss(pid) ?? 0).reduce((a, b) => a + b, 0)
      const mem = readMemInfo()
      return { processRssMiB: rss / 2 ** 20, systemUsedPct: ((mem.totalBytes - mem.availableBytes) / mem.totalBytes) * 100 }
    },
  }
}

function queryNvidiaSmi(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('nvidia-smi', [`--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], { timeout: 5000 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(new Error(stderr.trim() || error.message), { code: (error as NodeJS.ErrnoException).code }))
      else resolve(stdout)
    })
  })
}

/** `nvidia`: per GPU utilisation, memory used, power draw, SM clock and temperature from nvidia-smi. */
const nvidia: ProbeFactory = async () => {
  let first: ReturnType<typeof parseNvidiaSmiCsv>
  try {
    first = parseNvidiaSmiCsv(await queryNvidiaSmi())
  } catch (error) {
    const absent = (error as NodeJS.ErrnoException).code === 'ENOENT'
    return { unavailable: absent ? 'nvidia-smi is not installed (no NVIDIA GPU or driver here)' : `nvidia-smi failed: ${(error as Error).message}` }
  }
  if (first.length === 0) return { unavailable: 'nvidia-smi lists no GPU' }
  return {
    describe: () => Object.fromEntries(first.flatMap((g) => [
      [`gpu${g.index}Name`, g.name], [`gpu${g.index}Driver`, g.driverVersion],
      ...(g.memoryTotalMiB !== undefined ? [[`gpu${g.index}MemoryTotalMiB`, g.memoryTotalMiB]] : []),
    ])),
    sample: async () => {
      const values: Record<string, number> = {}
      for (const g of parseNvidiaSmiCsv(await queryNvidiaSmi())) {
        const put = (name: string, v: number | undefined) => { if (v !== undefined) values[`gpu${g.index}${name}`] = v }
        put('UtilPct', g.utilizationPct)
        put('MemoryUsedMiB', g.memoryUsedMiB)
        put('PowerW', g.powerDrawW)
        put('SmClockMHz', g.smClockMHz)
        put('TemperatureC', g.temperatureC)
      }
      return values
    },
  }
}

/** `rapl`: CPU package power (W) per package and in total, from the powercap energy counters. */
function rapl(root: string): ProbeFactory {
  return async () => {
    const zones = raplZones(root)
    if (!Array.isArray(zones)) return zones
    let last = zones.map(readEnergyUj)
    let at = performance.now()
    return {
      describe: () => Object.fromEntries(zones.map((z, i) => [`zone${i}`, z.name])),
      sample: () => {
        const now = performance.now()
        const energy = zones.map(readEnergyUj)
        const seconds = (now - at) / 1000
        const watts = zones.map((z, i) => energyDeltaUj(last[i]!, energy[i]!, z.maxUj) / 1e6 / seconds)
        last = energy
        at = now
        return { ...Object.fromEntries(watts.map((w, i) => [`package${i}PowerW`, w])), packagePowerW: watts.reduce((a, b) => a + b, 0) }
      },
    }
  }
}

/** Kept when measurement.probeOptions.prometheus.series is not set: Triton's and our server's own families. */
export const DEFAULT_PROMETHEUS_SERIES = ['nv_inference_*', 'nv_gpu_*', 'nv_energy_consumption', 'inferbench_inference_*']
const SCRAPE_TIMEOUT_MS = 2000

const prometheusOptions = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).optional(),
  series: z.array(z.string().min(1)).min(1).optional(),
})

/**
 * `prometheus`: scrapes a metrics endpoint (the backend's own, e.g. our server's /metrics, or
 * measurement.probeOptions.prometheus.url, e.g. Triton's :8002/metrics) and keeps the chosen
 * series: gauges as they are, counters as rates per second between samples.
 */
const prometheus: ProbeFactory = async ({ metricsUrl, options = {} }) => {
  const parsed = prometheusOptions.safeParse(options)
  if (!parsed.success) return { unavailable: `measurement.probeOptions.prometheus: ${zodIssuesToMessage(parsed.error)}` }
  const url = parsed.data.url ?? metricsUrl
  if (!url) return { unavailable: 'no metrics URL: the backend serves none; set measurement.probeOptions.prometheus.url (e.g. Triton\'s http://host:8002/metrics)' }
  const series = parsed.data.series ?? DEFAULT_PROMETHEUS_SERIES
  const scrape = async (): Promise<Scrape> => {
    const response = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) })
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`)
    return scrapeSeries(await response.text(), series)
  }
  let last: Scrape
  try {
    last = await scrape()
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code
    return { unavailable: `cannot scrape ${url}: ${cause ?? (error as Error).message}` }
  }
  if (last.values.size === 0) return { unavailable: `${url} has no series matching ${series.join(', ')}` }
  let at = performance.now()
  return {
    describe: () => ({ url, series: series.join(', '), matched: last.values.size }),
    sample: async () => {
      const next = await scrape()
      const now = performance.now()
      const values = seriesSample(last, next, (now - at) / 1000)
      last = next
      at = now
      return values
    },
  }
}

/**
 * `docker`: CPU (% of one core), memory and network of the containers a backend started
 * (the docker backend), from the Engine's one-shot stats, as `docker stats` computes them.
 */
const docker: ProbeFactory = async ({ containers = [] }) => {
  if (containers.length === 0) return { unavailable: 'the backend started no container (only the docker backend does)' }
  const Docker = await loadDockerode()
  const handles = containers.map((ref) => ({ id: ref.id, container: new Docker({ socketPath: ref.socketPath }).getContainer(ref.id) }))
  const read = async (h: typeof handles[number]): Promise<ContainerCounters> => {
    const stats = await h.container.stats({ stream: false, 'one-shot': true } as { stream: false }) as DockerStats
    const counters = containerCounters(stats)
    if (!counters) throw new Error(`the engine gave no CPU figures for container ${h.id.slice(0, 12)} (is it running?)`)
    return counters
  }
  let last: ContainerCounters[]
  try {
    last = await Promise.all(handles.map(read))
  } catch (error) {
    return { unavailable: `cannot read container stats: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }
  }
  let at = performance.now()
  return {
    describe: () => Object.fromEntries(containers.map((c, i) => [`container${i}`, c.id.slice(0, 12)])),
    sample: async () => {
      const next = await Promise.all(handles.map(read))
      const now = performance.now()
      const values: Record<string, number> = {}
      next.forEach((counters, i) => {
        for (const [key, value] of Object.entries(containerSample(last[i]!, counters, (now - at) / 1000))) values[`container${i}${key[0]!.toUpperCase()}${key.slice(1)}`] = value
      })
      last = next
      at = now
      return values
    },
  }
}

/** Built-in resource probes: cpu and memory (Linux /proc), rapl (powercap), nvidia (nvidia-smi), prometheus (a /metrics URL), docker (container stats). */
export function probes(options: { powercapRoot?: string } = {}): Plugin {
  return definePlugin({ name: 'inferbench:probes', probes: { cpu, memory, rapl: rapl(options.powercapRoot ?? POWERCAP_ROOT), nvidia, prometheus, docker } })
}
