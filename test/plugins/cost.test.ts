import { describe, expect, it } from 'vitest'
import { configSchema } from '../../core/config.ts'
import type { CostInput } from '../../core/plugin.ts'
import type { ProbeResult } from '../../core/report.ts'
import { CCF_WATTS_PER_CORE, computeCost, defaultCostModel } from '../../plugins/cost/cost-model.ts'

const settings = (cost: Record<string, unknown> = {}) => configSchema.parse({ cost }).cost
const probe = (summary: Record<string, number>, info?: Record<string, number>): ProbeResult => ({
  available: true, ...(info ? { info } : {}), summary: Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, { mean: v, max: v }])), samples: { atMs: [], series: {} },
})
const measurement = (probes: Record<string, ProbeResult>, over: Partial<CostInput['measurement']> = {}): CostInput['measurement'] => ({
  durationMs: 10_000, requests: { ok: 1000, errors: 0, late: 0, overflow: 0 }, throughput: { requestsPerSec: 100, samplesPerSec: 800 }, batch: 8, probes, ...over,
})

describe('cost model', () => {
  it('measured power: RAPL package + every GPU over the measurement, per request and per sample', () => {
    const figures = computeCost({
      measurement: measurement({ rapl: probe({ packagePowerW: 50 }), nvidia: probe({ gpu0PowerW: 200, gpu1PowerW: 150, gpu0UtilPct: 80 }) }),
      settings: settings({ region: 'us-east-1', instance: 'aws:g5.xlarge' }),
    })
    // (50 + 350) W × 10 s / 1000 requests = 4 J; 8 samples each.
    expect(figures.energy).toMatchObject({ perRequestJ: 4, perSampleJ: 0.5, powerW: 400, basis: 'measured' })
    expect(figures.energy!.parts.map((p) => [p.part, p.watts])).toEqual([['cpu', 50], ['gpu', 350]])
    // 4 J = 4 / 3.6e6 kWh at the US grid's 369 g/kWh.
    expect(figures.co2).toMatchObject({ gramsPerKWh: 369, grid: 'us-east-1 → US grid' })
    expect(figures.co2!.perRequestG).toBeCloseTo((4 / 3.6e6) * 369, 12)
    // $1.006 an hour at 100 req/s: 360,000 requests an hour.
    expect(figures.cloud).toMatchObject({ instance: 'aws:g5.xlarge', usdPerHour: 1.006 })
    expect(figures.cloud!.perMillionRequestsUsd).toBeCloseTo((1.006 / 360_000) * 1e6, 9)
    expect(figures.missing).toBeUndefined()
  })

  it('estimates CPU power from utilisation × per-core watts when nothing measures it, and says so', () => {
    const figures = computeCost({ measurement: measurement({ cpu: probe({ systemCpuPct: 50, processCpuPct: 90 }, { cores: 4 }) }), settings: settings() })
    const watts = 4 * (CCF_WATTS_PER_CORE.idle + 0.5 * (CCF_WATTS_PER_CORE.max - CCF_WATTS_PER_CORE.idle))
    expect(figures.energy).toMatchObject({ basis: 'estimated', powerW: watts })
    expect(figures.energy!.perRequestJ).toBeCloseTo((watts * 10) / 1000, 12)
    expect(figures.co2).toMatchObject({ gramsPerKWh: 481, grid: 'world' })
    expect(figures.cloud).toBeUndefined()
    expect(figures.missing?.join()).toMatch(/cost\.instance/)
    // Measured GPU with estimated CPU is 'mixed'; the config's own watts replace the defaults.
    const mixed = computeCost({
      measurement: measurement({ cpu: probe({ systemCpuPct: 100 }, { cores: 2 }), nvidia: probe({ gpu0PowerW: 100 }) }),
      settings: settings({ cpuWattsPerCore: { idle: 1, max: 5 }, gridIntensity: 100, pricePerHour: 3.6 }),
    })
    expect(mixed.energy).toMatchObject({ basis: 'mixed', powerW: 110 })
    expect(mixed.co2).toMatchObject({ gramsPerKWh: 100, source: 'config cost.gridIntensity' })
    expect(mixed.cloud).toMatchObject({ usdPerHour: 3.6, perMillionRequestsUsd: 10 })
  })

  it('no power source: no energy or CO2, and the reason names the probe to add', () => {
    const figures = computeCost({ measurement: measurement({ rapl: { available: false, reason: 'no powercap' } }), settings: settings({ instance: 'gcp:n2-standard-4' }) })
    expect(figures.energy).toBeUndefined()
    expect(figures.co2).toBeUndefined()
    expect(figures.cloud?.usdPerHour).toBe(0.194236)
    expect(figures.missing?.join()).toMatch(/rapl probe is unavailable: no powercap.*add 'cpu'/)
  })

  it('an unknown region or instance is found before any job runs, naming the known ones and the override', () => {
    expect(defaultCostModel.check!(settings({ region: 'atlantis' }))).toMatch(/cost\.region: unknown region or grid 'atlantis'; known: world, US, .*us-east-1.*cost\.gridIntensity/)
    expect(defaultCostModel.check!(settings({ instance: 'aws:p9.huge' }))).toMatch(/cost\.instance: no price for 'aws:p9\.huge'; known: aws:m7g\.large, .*cost\.pricePerHour/)
    expect(defaultCostModel.check!(settings({ region: 'atlantis', gridIntensity: 10, instance: 'aws:p9.huge', prices: { 'aws:p9.huge': 9 } }))).toBeUndefined()
    expect(defaultCostModel.check!(settings({ region: 'eu-west-3' }))).toBeUndefined()
  })
})
