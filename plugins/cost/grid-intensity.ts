/**
 * Carbon intensity of electricity generation, gCO2e/kWh, by country or area, for the year 2023.
 * Source: Ember, Yearly Electricity Data (lifecycle emissions), as published in Ember's Global
 * Electricity Review 2024 and on Our World in Data ("Carbon intensity of electricity generation",
 * https://ourworldindata.org/grapher/carbon-intensity-electricity). National averages: a cloud
 * region's own grid can differ a lot (Quebec's hydro against Canada's mean); set `cost.gridIntensity`
 * or `cost.regions` for a better figure.
 */
export const GRID_SOURCE = 'Ember 2023 (lifecycle, national average)'

export const GRID_INTENSITY: Readonly<Record<string, number>> = {
  world: 481,
  US: 369,
  CA: 170,
  BR: 98,
  DE: 381,
  FR: 56,
  IE: 291,
  BE: 138,
  FI: 79,
  NO: 30,
  IN: 713,
  CN: 582,
  AU: 549,
}

/** Cloud regions by the grid (country) their data centres draw from. */
export const REGION_GRID: Readonly<Record<string, string>> = {
  // AWS
  'us-east-1': 'US', 'us-east-2': 'US', 'us-west-1': 'US', 'us-west-2': 'US',
  'ca-central-1': 'CA', 'sa-east-1': 'BR', 'eu-central-1': 'DE', 'eu-west-1': 'IE', 'eu-west-3': 'FR',
  'ap-south-1': 'IN', 'ap-southeast-2': 'AU', 'cn-north-1': 'CN', 'cn-northwest-1': 'CN',
  // Google Cloud
  'us-central1': 'US', 'us-east1': 'US', 'us-east4': 'US', 'us-west1': 'US', 'us-west2': 'US', 'us-west4': 'US',
  'northamerica-northeast1': 'CA', 'southamerica-east1': 'BR', 'europe-west1': 'BE', 'europe-west3': 'DE',
  'europe-west9': 'FR', 'europe-north1': 'FI', 'asia-south1': 'IN', 'australia-southeast1': 'AU',
}

/** The grid intensity for a region or grid name, with what it stands for; undefined when unknown. */
export function gridIntensity(region: string, extra: Readonly<Record<string, number>> = {}): { gramsPerKWh: number; grid: string; source: string } | undefined {
  if (extra[region] !== undefined) return { gramsPerKWh: extra[region], grid: region, source: 'config cost.regions' }
  const grid = REGION_GRID[region] ?? (GRID_INTENSITY[region] !== undefined ? region : undefined)
  if (grid === undefined) return undefined
  return { gramsPerKWh: GRID_INTENSITY[grid]!, grid: grid === region ? grid : `${region} → ${grid} grid`, source: GRID_SOURCE }
}

export function knownRegions(): string[] {
  return [...Object.keys(GRID_INTENSITY), ...Object.keys(REGION_GRID)]
}
