import { spawnSync } from 'node:child_process'
import os from 'node:os'

/** Where and with what a run happened, so a number can be reproduced or explained. */
export interface Fingerprint {
  cpu: { model: string; cores: number; speedMHz: number }
  memoryBytes: number
  os: { platform: string; release: string; arch: string }
  node: string
  /** Library versions reported by the backends used, e.g. { onnxruntime: '1.30.0' }. */
  libraries: Record<string, string>
  inferbench: string
  git?: { commit: string; dirty: boolean }
  hostname: string
}

export function collectFingerprint(root: string, inferbenchVersion: string, libraries: Record<string, string>): Fingerprint {
  const cpus = os.cpus()
  const git = gitState(root)
  return {
    cpu: { model: cpus[0]?.model.trim() ?? 'unknown', cores: cpus.length, speedMHz: cpus[0]?.speed ?? 0 },
    memoryBytes: os.totalmem(),
    os: { platform: os.platform(), release: os.release(), arch: os.arch() },
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
