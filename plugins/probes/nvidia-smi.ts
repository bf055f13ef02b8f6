/** The nvidia probe's query and the parser of its CSV answer. */

/** Fields asked of `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`, in order. */
export const NVIDIA_QUERY_FIELDS = [
  'index', 'name', 'driver_version', 'memory.total', 'utilization.gpu', 'memory.used', 'power.draw', 'clocks.sm', 'temperature.gpu',
] as const

export interface GpuSample {
  index: number
  name: string
  driverVersion: string
  memoryTotalMiB?: number
  utilizationPct?: number
  memoryUsedMiB?: number
  powerDrawW?: number
  smClockMHz?: number
  temperatureC?: number
}

/**
 * One line per GPU. A field the GPU does not report ('[N/A]', '[Not Supported]', '[Unknown Error]')
 * is left out, never read as 0: an absent power reading is not zero watts.
 */
export function parseNvidiaSmiCsv(text: string): GpuSample[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line, row) => {
    const cells = line.split(',').map((c) => c.trim())
    if (cells.length !== NVIDIA_QUERY_FIELDS.length) {
      throw new Error(`nvidia-smi line ${row + 1}: expected ${NVIDIA_QUERY_FIELDS.length} comma-separated fields (${NVIDIA_QUERY_FIELDS.join(', ')}), found ${cells.length}: ${line}`)
    }
    const num = (i: number) => {
      const cell = cells[i]!
      if (cell.startsWith('[') || cell === '' || cell === 'N/A') return undefined
      const n = Number(cell)
      return Number.isFinite(n) ? n : undefined
    }
    const sample: GpuSample = { index: num(0) ?? row, name: cells[1]!, driverVersion: cells[2]! }
    const optional: Array<[keyof GpuSample, number | undefined]> = [
      ['memoryTotalMiB', num(3)], ['utilizationPct', num(4)], ['memoryUsedMiB', num(5)], ['powerDrawW', num(6)], ['smClockMHz', num(7)], ['temperatureC', num(8)],
    ]
    for (const [key, value] of optional) if (value !== undefined) (sample as unknown as Record<string, number>)[key] = value
    return sample
  })
}
