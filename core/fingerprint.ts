import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** Where and with what a run happened, so a number can be reproduced or explained. */
export interface Fingerprint {
  cpu: { model: string; cores: number; speedMHz: number }
  memoryBytes: number
  /** `release` is the kernel's; `distro` the OS's name from /etc/os-release, where there is one. */
  os: { platform: string; release: string; arch: string; distro?: string }
  /** NVIDIA GPUs, their driver and the CUDA version the driver supports, from nvidia-smi. */
  gpu?: GpuFingerprint
  node: string
  /** Library versions reported by the backends used, e.g. { onnxruntime: '1.30.0' }. */
  libraries: Record<string, string>
  inferbench: string
  git?: { commit: string; dirty: boolean }
  hostname: string
}

export interface GpuFingerprint {
  driver: string
  cuda?: string
  devices: string[]
}

export function collectFingerprint(root: string, inferbenchVersion: string, libraries: Record<string, string>): Fingerprint {
  const cpus = os.cpus()
  const git = gitState(root)
  const distro = osDistro()
  const gpu = gpuState()
  return {
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, speedMHz: cpus[0]?.speed ?? 0 },
    memoryBytes: os.totalmem(),
    os: { platform: os.platform(), release: os.release(), arch: os.arch(), ...(distro ? { distro } : {}) },
    ...(gpu ? { gpu } : {}),
    node: process.version,
    libraries,
    inferbench: inferbenchVersion,
    ...(git ? { git } : {}),
    hostname: os.hostname(),
  }
}

function gitState(root: string): { commit: string; dirty: boolean } | undefined {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' })
  if (head.status !== 0) return undefined
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' })
  return { commit: head.stdout.trim(), dirty: status.status === 0 && status.stdout.trim().length > 0 }
}

function osDistro(): string | undefined {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1]
  } catch {
    return undefined
  }
}

/** Absent nvidia-smi (no NVIDIA driver) is the common case and costs one failed spawn. */
function gpuState(): GpuFingerprint | undefined {
  const run = spawnSync('nvidia-smi', [], { encoding: 'utf8', timeout: 5000 })
  if (run.status !== 0 || !run.stdout) return undefined
  return parseNvidiaSmiBanner(run.stdout)
}

/**
 * The driver and CUDA versions from the banner of a plain `nvidia-smi`
 * ("| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4 |") and the
 * GPU names from its device rows ("|   0  NVIDIA H100 80GB HBM3   On  | ...").
 */
export function parseNvidiaSmiBanner(text: string): GpuFingerprint | undefined {
  const driver = /Driver Version:\s*([\w.-]+)/.exec(text)?.[1]
  if (!driver) return undefined
  const cuda = /CUDA Version:\s*([\w.-]+)/.exec(text)?.[1]
  const devices = [...text.matchAll(/^\|\s+\d+\s+(.+?)\s{2,}(?:On|Off)\s+\|/gm)].map((m) => m[1]!.trim())
  return { driver, ...(cuda ? { cuda } : {}), devices }
}

/** A short label for the machine a figure came from: its GPU (and how many), else its CPU and cores. */
export function hardwareLabel(f: Pick<Fingerprint, 'cpu' | 'gpu'>): string {
  if (f.gpu?.devices.length) return `${f.gpu.devices[0]}${f.gpu.devices.length > 1 ? ` ×${f.gpu.devices.length}` : ''}`
  return `${f.cpu.model.replace(/\s+\d+-Core Processor/, '')} ×${f.cpu.cores}`
}
