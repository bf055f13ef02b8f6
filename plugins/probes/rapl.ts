import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

/**
 * CPU package energy from Linux powercap (Intel RAPL, and AMD's through the same interface):
 * each package zone `intel-rapl:N` counts microjoules in `energy_uj`, wrapping at
 * `max_energy_range_uj`. Recent kernels let only root read the counters.
 */
export interface RaplZone {
  name: string
  path: string
  maxUj: number
}

export const POWERCAP_ROOT = '/sys/class/powercap'

/** The package zones (not their core/uncore/dram subzones), or why there are none readable. */
export function raplZones(root = POWERCAP_ROOT): RaplZone[] | { unavailable: string } {
  if (!existsSync(root)) return { unavailable: `${root} does not exist (no RAPL powercap here: a VM, or not Linux)` }
  const zones = readdirSync(root).filter((d) => /^intel-rapl:\d+$/.test(d)).sort()
  if (zones.length === 0) return { unavailable: `${root} has no RAPL package zone (intel-rapl:N)` }
  try {
    return zones.map((d) => {
      const path = join(root, d)
      readFileSync(join(path, 'energy_uj'), 'utf8') // readable at all?
      return { name: readFileSync(join(path, 'name'), 'utf8').trim(), path, maxUj: Number(readFileSync(join(path, 'max_energy_range_uj'), 'utf8')) }
    })
  } catch (error) {
    const denied = (error as NodeJS.ErrnoException).code === 'EACCES'
    return { unavailable: denied ? `${root}/*/energy_uj is readable by root only on this kernel; run as root, or grant read access to it` : `cannot read RAPL counters: ${(error as Error).message}` }
  }
}

export function readEnergyUj(zone: RaplZone): number {
  return Number(readFileSync(join(zone.path, 'energy_uj'), 'utf8'))
}

/** Microjoules between two readings of a counter that wraps at `maxUj`. */
export function energyDeltaUj(before: number, after: number, maxUj: number): number {
  return after >= before ? after - before : maxUj - before + after
}
