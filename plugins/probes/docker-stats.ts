/** The fields of a Docker Engine `GET /containers/{id}/stats?stream=false` answer the probe reads. */
export interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number }
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> }
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>
}

export interface ContainerCounters {
  cpuNs: number
  systemNs: number
  onlineCpus: number
  /** Memory in use as `docker stats` counts it: usage less the page cache that can be dropped. */
  memoryBytes: number
  limitBytes: number
  rxBytes: number
  txBytes: number
}

export function containerCounters(stats: DockerStats): ContainerCounters | undefined {
  const cpu = stats.cpu_stats
  if (cpu?.cpu_usage?.total_usage === undefined || cpu.system_cpu_usage === undefined) return undefined
  const mem = stats.memory_stats ?? {}
  // cgroup v2 reports inactive_file, v1 total_inactive_file (docker CLI ≥ 19.03 subtracts these).
  const cache = mem.stats?.inactive_file ?? mem.stats?.total_inactive_file ?? 0
  const nets = Object.values(stats.networks ?? {})
  return {
    cpuNs: cpu.cpu_usage.total_usage, systemNs: cpu.system_cpu_usage, onlineCpus: cpu.online_cpus ?? 1,
    memoryBytes: Math.max(0, (mem.usage ?? 0) - cache), limitBytes: mem.limit ?? 0,
    rxBytes: nets.reduce((sum, n) => sum + (n.rx_bytes ?? 0), 0), txBytes: nets.reduce((sum, n) => sum + (n.tx_bytes ?? 0), 0),
  }
}

/**
 * One container's sample between two readings, as `docker stats` computes CPU: the container's
 * share of the host's CPU time × the online CPUs, so 100% is one core busy.
 */
export function containerSample(before: ContainerCounters, after: ContainerCounters, seconds: number): Record<string, number> {
  const system = after.systemNs - before.systemNs
  return {
    cpuPct: system > 0 ? ((after.cpuNs - before.cpuNs) / system) * after.onlineCpus * 100 : 0,
    memoryMiB: after.memoryBytes / 2 ** 20,
    ...(seconds > 0 ? { rxBytesPerSec: (after.rxBytes - before.rxBytes) / seconds, txBytesPerSec: (after.txBytes - before.txBytes) / seconds } : {}),
  }
}
