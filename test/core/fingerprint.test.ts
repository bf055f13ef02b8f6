import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { collectFingerprint, parseNvidiaSmiBanner } from '../../core/fingerprint.ts'
import { fingerprintDifferences } from '../../cli/store-command.ts'
import { REPO_ROOT } from '../helpers/temp-project.ts'

describe('run fingerprint', () => {
  it('reads the driver, the CUDA version and every GPU name from the nvidia-smi table', () => {
    const text = readFileSync(join(REPO_ROOT, 'fixtures/nvidia-smi/banner-two-gpus.txt'), 'utf8')
    expect(parseNvidiaSmiBanner(text)).toEqual({ driver: '550.54.15', cuda: '12.4', devices: ['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3'] })
    // Recorded on an H200 (driver 580, CUDA 13) with a process on it: the process table's rows are not GPUs.
    const h200 = readFileSync(join(REPO_ROOT, 'fixtures/nvidia-smi/banner-h200.txt'), 'utf8')
    expect(parseNvidiaSmiBanner(h200)).toEqual({ driver: '580.159.04', cuda: '13.0', devices: ['NVIDIA H200'] })
    expect(parseNvidiaSmiBanner('NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.')).toBeUndefined()
  })

  it('holds this machine\'s kernel, OS name and git state', () => {
    const f = collectFingerprint(REPO_ROOT, '0.0.0', { onnxruntime: '1.0' })
    expect(f.os.release).toBe(os.release())
    expect(f.os.distro).toMatch(/\w/)
    expect(f.git?.commit).toMatch(/^[0-9a-f]{40}$/)
    // No nvidia-smi on this machine: no GPU section, rather than an empty one.
    expect(f.gpu).toBeUndefined()
  })

  it('compare names GPU, driver and memory differences', () => {
    const base = collectFingerprint(REPO_ROOT, '0.0.0', {})
    const gpu = { driver: '550.54.15', cuda: '12.4', devices: ['NVIDIA H100 80GB HBM3'] }
    expect(fingerprintDifferences(base, { ...base, gpu })).toEqual(['GPUs (no GPU vs NVIDIA H100 80GB HBM3)'])
    expect(fingerprintDifferences({ ...base, gpu }, { ...base, gpu: { ...gpu, driver: '560.28.03', cuda: '12.6' } }))
      .toEqual(['GPU driver (550.54.15, CUDA 12.4 vs 560.28.03, CUDA 12.6)'])
    expect(fingerprintDifferences(base, { ...base, memoryBytes: base.memoryBytes * 2 })).toHaveLength(1)
    expect(fingerprintDifferences(base, { ...base })).toEqual([])
  })
})
