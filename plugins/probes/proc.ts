import { readFileSync } from 'node:fs'

/** Linux /proc readers for the cpu and memory probes (no dependency: plain text files). */

/** Busy and total jiffies of all CPUs together (the first line of /proc/stat). */
export function readSystemCpu(text = readFileSync('/proc/stat', 'utf8')): { busy: number; total: number } {
  const line = text.split('\n', 1)[0]!
  const fields = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields
  const total = user + nice + system + idle + iowait + irq + softirq + steal
  return { busy: total - idle - iowait, total }
}

/** utime + stime of a process in clock ticks, or undefined when it is gone. */
export function readProcessTicks(pid: number, read = (path: string) => readFileSync(path, 'utf8')): number | undefined {
  const text = readIfAlive(read, `/proc/${pid}/stat`)
  if (text === undefined) return undefined
  // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return Number(rest[11]) + Number(rest[12])
}

/** Resident set size in bytes, or undefined when the process is gone. */
export function readProcessRss(pid: number, read = (path: string) => readFileSync(path, 'utf8')): number | undefined {
  const text = readIfAlive(read, `/proc/${pid}/status`)
  if (text === undefined) return undefined
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(text)?.[1]
  return kb === undefined ? undefined : Number(kb) * 1024
}

/** MemTotal and MemAvailable of the machine in bytes. */
export function readMemInfo(text = readFileSync('/proc/meminfo', 'utf8')): { totalBytes: number; availableBytes: number } {
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text)?.[1] ?? NaN) * 1024
  return { totalBytes: kb('MemTotal'), availableBytes: kb('MemAvailable') }
}

/** A /proc file of a process, or undefined once the process is gone. */
function readIfAlive(read: (path: string) => string, path: string): string | undefined {
  try {
    return read(path)
  } catch {
    return undefined
  }
}
