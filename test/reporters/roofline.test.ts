import { describe, expect, it } from 'vitest'
import { measureCeilings } from '../../plugins/onnxruntime/ceilings.ts'
import { acceleratorCeilings, placeOnRoofline } from '../../reporters/analysis/roofline.ts'

describe('roofline', () => {
  it('places a job on known numbers: memory- or compute-bound by the ridge, efficiency against the attainable roof', () => {
    const machine = { peakFlops: 100e9, bandwidthBytesPerSec: 20e9 } // ridge at 5 FLOP/byte
    // 2 MFLOP over 1 MB per request: 2 FLOP/byte, under the bandwidth roof of 40 GFLOP/s; 10,000 req/s attain 20 GFLOP/s.
    expect(placeOnRoofline(2e6, 1e6, 10_000, machine)).toEqual({ intensity: 2, attainedFlops: 20e9, attainableFlops: 40e9, bound: 'memory', efficiency: 0.5, ridge: 5 })
    // 80 FLOP/byte: under the compute roof of 100 GFLOP/s.
    expect(placeOnRoofline(8e7, 1e6, 1000, machine)).toMatchObject({ bound: 'compute', attainableFlops: 100e9, efficiency: 0.8 })
  })

  it('knows the datasheet ceilings of common GPUs by nvidia-smi names', () => {
    expect(acceleratorCeilings('NVIDIA H100 80GB HBM3')).toMatchObject({ name: 'H100 SXM (FP32)', peakFlops: 67e12, bandwidthBytesPerSec: 3.35e12 })
    expect(acceleratorCeilings('NVIDIA A100-SXM4-80GB', 'fp16')).toMatchObject({ name: 'A100 SXM 80GB (FP16)', peakFlops: 312e12, bandwidthBytesPerSec: 2.039e12 })
    expect(acceleratorCeilings('Tesla T4')?.name).toBe('T4 (FP32)')
    expect(acceleratorCeilings('NVIDIA A10G')?.name).toBe('A10 (FP32)')
    expect(acceleratorCeilings('NVIDIA H200')?.bandwidthBytesPerSec).toBe(4.8e12)
    expect(acceleratorCeilings('Radeon 7900')).toBeUndefined()
  })

  it('measures this CPU\'s ceilings through onnxruntime within physical bounds', async () => {
    const c = await measureCeilings({ matmulN: 256, streamFloats: 1 << 20, runs: 3 })
    // A few cores of a server CPU: 1 to 10,000 GFLOP/s FP32 and 0.5 to 2,000 GB/s.
    expect(c.peakFlops).toBeGreaterThan(1e9)
    expect(c.peakFlops).toBeLessThan(1e13)
    expect(c.bandwidthBytesPerSec).toBeGreaterThan(5e8)
    expect(c.bandwidthBytesPerSec).toBeLessThan(2e12)
    expect(c.how).toEqual({ matmulN: 256, streamFloats: 1 << 20, runs: 3, threads: 'onnxruntime default' })
  }, 30_000)
})
