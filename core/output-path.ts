import { accessSync, constants, statSync, statfsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

/**
 * Filesystems whose files are the kernel's, not data: writing a report there fails or hangs (a
 * recursive mkdir under /proc never ends), so such paths are refused up front. Magic numbers
 * from linux/magic.h.
 */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x1cd1, 'devpts'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'], [0x74726163, 'tracefs'], [0x73636673, 'securityfs'], [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'], [0x6165676c, 'pstore'], [0xde5e81e4, 'efivarfs'],
])

/**
 * Why a report cannot be written to `path` (resolved against `root`), or undefined when it can:
 * the file is writable, or the nearest existing folder above it is a writable directory on a
 * real filesystem (so the reporter can create the folders in between).
 */
export function outputPathProblem(root: string, path: string): string | undefined {
  const target = resolve(root, path)
  const existing = stat(target)
  if (existing) {
    if (existing.isDirectory()) return `${target} is a directory; give a file path`
    return writable(target) ? pseudoFilesystem(target) : `${target} is not writable`
  }
  let dir = dirname(target)
  let found = stat(dir)
  while (!found && dirname(dir) !== dir) {
    dir = dirname(dir)
    found = stat(dir)
  }
  if (!found) return `no folder above ${target} exists`
  if (!found.isDirectory()) return `${dir} is a file, so ${target} cannot be created under it`
  if (!writable(dir)) return `${dir} is not writable`
  return pseudoFilesystem(dir)
}

function pseudoFilesystem(path: string): string | undefined {
  const kind = PSEUDO_FILESYSTEMS.get(statfsSync(path).type)
  return kind ? `${path} is on the kernel's ${kind} filesystem, not a place for files` : undefined
}

function stat(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined // absent (or unreadable): the caller looks one folder up
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK)
    return true
  } catch {
    return false
  }
}
