import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The roofline model (Williams, Waterman and Patterson, 2009): a job attains at most
 * min(peak FLOP/s, arithmetic intensity × memory bandwidth). Intensity = FLOPs per byte moved
 * (from the model's static analysis at the job's batch); attained = FLOPs per request × requests/s.
 */
export interface Ceilings {
  name: string
  peakFlops: number
  bandwidthBytesPerSec: number
  source: string
}

/**
 * Datasheet ceilings of common accelerators: dense FP32 (non-tensor) and dense FP16 tensor-core
 * peaks, and memory bandwidth. Source: NVIDIA's product datasheets (SXM variants where there are
 * two), as listed in 2024–2025; boost clocks, so sustained figures are lower.
 */
export const ACCELERATOR_SPECS: ReadonlyArray<{ name: string; match: RegExp; fp32Tflops: number; fp16Tflops: number; bandwidthGBs: number }> = [
  { name: 'V100 SXM2 32GB', match: /V100/i, fp32Tflops: 15.7, fp16Tflops: 125, bandwidthGBs: 900 },
  { name: 'T4', match: /\bT4\b/i, fp32Tflops: 8.1, fp16Tflops: 65, bandwidthGBs: 320 },
  { name: 'A10', match: /\bA10G?\b/i, fp32Tflops: 31.2, fp16Tflops: 125, bandwidthGBs: 600 },
  { name: 'L4', match: /\bL4\b/i, fp32Tflops: 30.3, fp16Tflops: 121, bandwidthGBs: 300 },
  { name: 'A100 SXM 80GB', match: /A100.*80/i, fp32Tflops: 19.5, fp16Tflops: 312, bandwidthGBs: 2039 },
  { name: 'A100 SXM 40GB', match: /A100/i, fp32Tflops: 19.5, fp16Tflops: 312, bandwidthGBs: 1555 },
  { name: 'H100 SXM', match: /H100/i, fp32Tflops: 67, fp16Tflops: 989, bandwidthGBs: 3350 },
  { name: 'H200 SXM', match: /H200/i, fp32Tflops: 67, fp16Tflops: 989, bandwidthGBs: 4800 },
]

/** The spec-table ceilings of a GPU by its name (nvidia-smi's), FP32 or FP16; undefined when unknown. */
export function acceleratorCeilings(gpuName: string, precision: 'fp32' | 'fp16' = 'fp32'): Ceilings | undefined {
  const spec = ACCELERATOR_SPECS.find((s) => s.match.test(gpuName))
  if (!spec) return undefined
  return {
    name: `${spec.name} (${precision.toUpperCase()})`, peakFlops: (precision === 'fp32' ? spec.fp32Tflops : spec.fp16Tflops) * 1e12,
    bandwidthBytesPerSec: spec.bandwidthGBs * 1e9, source: 'NVIDIA datasheet',
  }
}

export interface RooflinePoint {
  /** FLOP per byte. */
  intensity: number
  /** FLOP/s the job reached. */
  attainedFlops: number
  /** min(peak, intensity × bandwidth). */
  attainableFlops: number
  bound: 'memory' | 'compute'
  /** attained / attainable. */
  efficiency: number
  /** peak / bandwidth: the intensity where the two ceilings meet. */
  ridge: number
}

/** Places a job under the ceilings: `flops` and `bytes` per request, at `requestsPerSec`. */
export function placeOnRoofline(flops: number, bytes: number, requestsPerSec: number, ceilings: Pick<Ceilings, 'peakFlops' | 'bandwidthBytesPerSec'>): RooflinePoint {
  const intensity = flops / bytes
  const ridge = ceilings.peakFlops / ceilings.bandwidthBytesPerSec
  const attainableFlops = Math.min(ceilings.peakFlops, intensity * ceilings.bandwidthBytesPerSec)
  const attainedFlops = flops * requestsPerSec
  return { intensity, attainedFlops, attainableFlops, bound: intensity < ridge ? 'memory' : 'compute', efficiency: attainedFlops / attainableFlops, ridge }
}

/**
 * Measured CPU ceilings kept beside the PerfDB (`inferbench roofline` writes them), keyed by the
 * machine's CPU, so reports draw this machine's roof without measuring it on every run.
 */
export function ceilingsPath(root: string, perfDb: string | false): string {
  return perfDb === false ? join(root, '.inferbench/ceilings.json') : join(dirname(perfDb), 'ceilings.json')
}

/** The key ceilings are kept under: the CPU model and its core count. */
export function cpuKey(cpu: { model: string; cores: number }): string {
  return `${cpu.model} ×${cpu.cores}`
}

export function saveCeilings(file: string, cpu: string, ceilings: Ceilings): void {
  const all = readCeilingsFile(file)
  all[cpu] = { ...ceilings, measuredAt: new Date().toISOString() }
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`)
}

export function loadCeilings(file: string, cpu: string): (Ceilings & { measuredAt: string }) | undefined {
  return readCeilingsFile(file)[cpu]
}

function readCeilingsFile(file: string): Record<string, Ceilings & { measuredAt: string }> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Ceilings & { measuredAt: string }>
  } catch {
    return {} // none measured yet, or a file from elsewhere: the roof is measured again
  }
}
