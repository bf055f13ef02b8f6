import { abortable } from '../core/abort.ts'
import type { IdleSettings } from '../core/config.ts'
import { formatMs } from '../core/duration.ts'
import { InferbenchError } from '../core/errors.ts'
import type { PluginRegistry, Probe } from '../core/plugin.ts'
import type { IdleCheck } from '../core/report.ts'

/**
 * The paper's guard against benchmarking on a busy server: before a job starts, wait until the
 * machine's CPU (and GPU, where nvidia-smi answers) utilisation over one window is under the
 * limits, for at most `timeout`. Reads the registry's cpu and nvidia probes, so it works wherever
 * they do; a machine without them cannot be checked, and the check says so.
 */
export async function waitForIdle(settings: IdleSettings, registry: PluginRegistry, signal: AbortSignal, onWait: (elapsedMs: number) => void = () => {}): Promise<IdleCheck> {
  const started = performance.now()
  const gpu = await startProbe(registry, 'nvidia')
  let last: { cpuPct: number; gpuPct?: number } | undefined
  for (;;) {
    const cpu = await startProbe(registry, 'cpu')
    if (!cpu) throw new InferbenchError('INFERBENCH_MACHINE_BUSY', 'measurement.idle: the cpu probe cannot run here, so the machine cannot be checked for quiet; set measurement.idle: false')
    await gpu?.sample() // nvidia-smi's utilisation covers the time since its last query
    await abortable(new Promise((resolve) => setTimeout(resolve, settings.window)), signal)
    const cpuPct = (await cpu.sample()).systemCpuPct ?? Number.NaN
    const gpuValues = gpu ? await gpu.sample() : {}
    const gpuUtil = Object.entries(gpuValues).filter(([k]) => /^gpu\d+UtilPct$/.test(k)).map(([, v]) => v)
    const gpuPct = gpuUtil.length ? Math.max(...gpuUtil) : undefined
    last = { cpuPct, ...(gpuPct !== undefined ? { gpuPct } : {}) }
    if (cpuPct <= settings.maxCpu && (gpuPct === undefined || gpuPct <= settings.maxGpu)) {
      // The whole check, its first window included: the job started this much later.
      return { waitedMs: Math.round(performance.now() - started), ...last }
    }
    if (performance.now() - started >= settings.timeout) {
      const busy = [
        ...(cpuPct > settings.maxCpu ? [`CPU ${Math.round(cpuPct)}% (limit maxCpu ${settings.maxCpu}%)`] : []),
        ...(gpuPct !== undefined && gpuPct > settings.maxGpu ? [`GPU ${Math.round(gpuPct)}% (limit maxGpu ${settings.maxGpu}%)`] : []),
      ]
      throw new InferbenchError('INFERBENCH_MACHINE_BUSY',
        `the machine stayed busy for ${formatMs(performance.now() - started)} before the job: ${busy.join(', ')} over the last ${formatMs(settings.window)}. Stop what else runs here, or raise measurement.idle.timeout or the limits (measurement.idle: false turns the check off)`)
    }
    onWait(performance.now() - started)
  }
}

async function startProbe(registry: PluginRegistry, name: string): Promise<Probe | undefined> {
  try {
    const made = await registry.probe(name)({ pids: [] })
    return 'unavailable' in made ? undefined : made
  } catch {
    return undefined
  }
}
