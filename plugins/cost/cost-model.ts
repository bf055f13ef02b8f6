import type { CostSettings } from '../../core/config.ts'
import type { CostInput, CostModel } from '../../core/plugin.ts'
import type { CostFigures, PowerPart, ProbeResult } from '../../core/report.ts'
import { gridIntensity, knownRegions } from './grid-intensity.ts'
import { INSTANCE_PRICES, PRICE_SOURCE } from './instance-prices.ts'

/**
 * CPU power per logical core when nothing measures it: Cloud Carbon Footprint's AWS averages
 * (0.74 W idle, 3.5 W at full load per vCPU, from SPECpower results; CCF methodology, Appendix I),
 * interpolated linearly by the machine's measured utilisation, as CCF does.
 */
export const CCF_WATTS_PER_CORE = { idle: 0.74, max: 3.5 }
const JOULES_PER_KWH = 3.6e6

/** The default cost model: measured power where a probe gives it, else an estimate; grid and price tables. */
export const defaultCostModel: CostModel = {
  check(settings) {
    const problems: string[] = []
    if (settings.gridIntensity === undefined && !gridIntensity(settings.region, settings.regions)) {
      problems.push(`cost.region: unknown region or grid '${settings.region}'; known: ${knownRegions().join(', ')}; or set cost.gridIntensity (gCO2e/kWh) or cost.regions`)
    }
    if (settings.instance !== undefined && settings.pricePerHour === undefined && settings.prices[settings.instance] === undefined && !INSTANCE_PRICES[settings.instance]) {
      const prefixed = ['aws', 'gcp'].map((p) => `${p}:${settings.instance}`).find((name) => INSTANCE_PRICES[name])
      problems.push(`cost.instance: no price for '${settings.instance}'${prefixed ? `; did you mean '${prefixed}'?` : ''}; known: ${Object.keys(INSTANCE_PRICES).join(', ')}; or set cost.pricePerHour (USD) or cost.prices`)
    }
    return problems.length ? problems.join('; ') : undefined
  },
  compute: computeCost,
}

export function computeCost({ measurement: m, settings }: CostInput): CostFigures {
  const missing: string[] = []
  const parts = powerParts(m.probes ?? {}, settings, missing)
  const seconds = m.durationMs / 1000
  const ok = m.requests.ok
  const figures: CostFigures = {}
  if (parts.length && ok > 0 && seconds > 0) {
    const powerW = parts.reduce((sum, p) => sum + p.watts, 0)
    const perRequestJ = (powerW * seconds) / ok
    const bases = new Set(parts.map((p) => p.basis))
    figures.energy = { perRequestJ, perSampleJ: perRequestJ / m.batch, powerW, basis: bases.size > 1 ? 'mixed' : parts[0]!.basis, parts }
    const grid = settings.gridIntensity !== undefined
      ? { gramsPerKWh: settings.gridIntensity, grid: 'cost.gridIntensity', source: 'config cost.gridIntensity' }
      : gridIntensity(settings.region, settings.regions)
    if (grid) figures.co2 = { perRequestG: (perRequestJ / JOULES_PER_KWH) * grid.gramsPerKWh, ...grid }
  }
  const price = instancePrice(settings)
  if (price && m.throughput.requestsPerSec > 0) {
    figures.cloud = { ...price, perMillionRequestsUsd: (price.usdPerHour / (m.throughput.requestsPerSec * 3600)) * 1e6 }
  } else if (!settings.instance) {
    missing.push('cloud cost: name the instance the figures stand for in cost.instance (e.g. aws:g5.xlarge)')
  }
  if (missing.length) figures.missing = missing
  return figures
}

/** CPU: rapl if it ran, else an estimate from the cpu probe's utilisation; GPU: nvidia-smi power. */
function powerParts(probes: Record<string, ProbeResult>, settings: CostSettings, missing: string[]): PowerPart[] {
  const parts: PowerPart[] = []
  const rapl = summaryOf(probes.rapl, 'packagePowerW')
  const cpu = probes.cpu
  if (rapl) parts.push({ part: 'cpu', watts: rapl, basis: 'measured', how: 'rapl package power' })
  else if (cpu?.available && cpu.summary.systemCpuPct && Number.isFinite(cpu.summary.systemCpuPct.mean)) {
    const cores = Number(cpu.info?.cores ?? 1)
    const w = settings.cpuWattsPerCore ?? CCF_WATTS_PER_CORE
    const u = cpu.summary.systemCpuPct.mean / 100
    parts.push({
      part: 'cpu', watts: cores * (w.idle + u * (w.max - w.idle)), basis: 'estimated',
      how: `${cores} cores × (${w.idle} + ${(u * 100).toFixed(0)}% × (${w.max} − ${w.idle})) W per core${settings.cpuWattsPerCore ? ' (cost.cpuWattsPerCore)' : ' (Cloud Carbon Footprint averages)'}`,
    })
  } else {
    missing.push(`energy: no CPU power (the rapl probe ${probes.rapl && !probes.rapl.available ? `is unavailable: ${probes.rapl.reason}` : 'did not run'}) and no CPU utilisation to estimate it from (add 'cpu' to the bench's probes, or to measurement.probes when the bench sets none)`)
  }
  const gpu = probes.nvidia
  if (gpu?.available) {
    const watts = Object.entries(gpu.summary).filter(([k, v]) => /^gpu\d+PowerW$/.test(k) && Number.isFinite(v.mean)).reduce((sum, [, v]) => sum + v.mean, 0)
    if (watts > 0) parts.push({ part: 'gpu', watts, basis: 'measured', how: 'nvidia-smi power.draw, all GPUs' })
  } else if (parts.length) {
    missing.push(`gpu power: not counted (the nvidia probe ${gpu ? `is unavailable: ${gpu.reason}` : 'did not run'}); on a GPU machine add 'nvidia' to the probes`)
  }
  return parts
}

function summaryOf(probe: ProbeResult | undefined, series: string): number | undefined {
  if (!probe?.available) return undefined
  const mean = probe.summary[series]?.mean
  return mean !== undefined && Number.isFinite(mean) ? mean : undefined
}

function instancePrice(settings: CostSettings): { instance: string; usdPerHour: number; source: string } | undefined {
  const instance = settings.instance ?? 'this machine'
  if (settings.pricePerHour !== undefined) return { instance, usdPerHour: settings.pricePerHour, source: 'config cost.pricePerHour' }
  if (!settings.instance) return undefined
  if (settings.prices[settings.instance] !== undefined) return { instance, usdPerHour: settings.prices[settings.instance]!, source: 'config cost.prices' }
  const listed = INSTANCE_PRICES[settings.instance]
  return listed ? { instance, usdPerHour: listed.usdPerHour, source: PRICE_SOURCE } : undefined
}
