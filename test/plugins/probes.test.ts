import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createRegistry, definePlugin, type Probe } from '../../core/plugin.ts'
import { probes } from '../../plugins/probes/index.ts'
import { parseNvidiaSmiCsv } from '../../plugins/probes/nvidia-smi.ts'
import { readMemInfo, readProcessRss, readProcessTicks, readSystemCpu } from '../../plugins/probes/proc.ts'
import { startProbes } from '../../runners/probe-sampler.ts'
import { REPO_ROOT } from '../helpers/temp-project.ts'

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'fixtures', name), 'utf8')
const children: ChildProcess[] = []
afterEach(() => { for (const c of children.splice(0)) c.kill() })
const child = (code: string) => {
  const c = spawn(process.execPath, ['-e', code], { stdio: 'ignore' })
  children.push(c)
  return c.pid!
}

describe('probes', () => {
  it('parses nvidia-smi CSV: several GPUs, and [N/A] / [Not Supported] fields left out, never zero', () => {
    const [a100, t4] = parseNvidiaSmiCsv(fixture('nvidia-smi/two-gpus.csv'))
    expect(a100).toEqual({ index: 0, name: 'NVIDIA A100-SXM4-80GB', driverVersion: '535.104.05', memoryTotalMiB: 81920, utilizationPct: 87, memoryUsedMiB: 40213, powerDrawW: 312.45, smClockMHz: 1410, temperatureC: 64 })
    expect(t4!.utilizationPct).toBe(0) // a real zero stays
    expect(t4).not.toHaveProperty('powerDrawW')
    const [gtx] = parseNvidiaSmiCsv(fixture('nvidia-smi/not-supported.csv'))
    expect(gtx).toEqual({ index: 0, name: 'NVIDIA GeForce GTX 1650', driverVersion: '550.54.14', memoryTotalMiB: 4096, memoryUsedMiB: 512, smClockMHz: 1485 })
    // Recorded on an H200, idle and under a bf16 matrix-product loop.
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi/h200-idle.csv'))).toEqual([{ index: 0, name: 'NVIDIA H200', driverVersion: '580.159.04', memoryTotalMiB: 143771, utilizationPct: 0, memoryUsedMiB: 0, powerDrawW: 98.32, smClockMHz: 345, temperatureC: 38 }])
    expect(parseNvidiaSmiCsv(fixture('nvidia-smi/h200-busy.csv'))).toEqual([{ index: 0, name: 'NVIDIA H200', driverVersion: '580.159.04', memoryTotalMiB: 143771, utilizationPct: 100, memoryUsedMiB: 1011, powerDrawW: 691.7, smClockMHz: 1470, temperatureC: 58 }])
    expect(() => parseNvidiaSmiCsv('0, only, three')).toThrow(/expected 9 comma-separated fields .* found 3/)
  })

  it('reads recorded /proc files, including a process name with spaces and parentheses', () => {
    expect(readSystemCpu(fixture('proc/stat.txt'))).toEqual({ busy: 2221557 + 231757 + 12875 + 21533, total: 2221557 + 231757 + 2054939 + 3134 + 12875 + 21533 })
    expect(readProcessTicks(1, () => fixture('proc/pid-stat.txt'))).toBe(57 + 2)
    expect(readProcessRss(1, () => fixture('proc/status.txt'))).toBe(Number(/VmRSS:\s+(\d+)/.exec(fixture('proc/status.txt'))![1]) * 1024)
    const mem = readMemInfo(fixture('proc/meminfo.txt'))
    expect(mem.availableBytes).toBeGreaterThan(0)
    expect(mem.availableBytes).toBeLessThan(mem.totalBytes)
    expect(readProcessTicks(2 ** 30)).toBeUndefined()
  })

  it('the cpu probe sees a busy process near a full core and a sleeping one near zero', async () => {
    const registry = createRegistry([probes()])
    const busy = child('const end = Date.now() + 5000; while (Date.now() < end);')
    const idle = child('setTimeout(() => {}, 5000)')
    const [busyRun, idleRun] = await Promise.all([busy, idle].map((pid) => startProbes(['cpu', 'memory'], registry, { pids: [pid], options: {} }, 100)))
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const [hot, cold] = await Promise.all([busyRun!.stop(), idleRun!.stop()])
    const pct = (r: typeof hot) => (r.cpu!.available ? r.cpu!.summary.processCpuPct!.mean : NaN)
    expect(pct(hot)).toBeGreaterThan(50)
    expect(pct(cold)).toBeLessThan(15)
    expect(hot.cpu!.available && hot.cpu!.samples.atMs.length).toBeGreaterThanOrEqual(8)
    expect(hot.memory!.available && hot.memory!.summary.processRssMiB!.max).toBeGreaterThan(10)
  })

  it('a probe that cannot run says why, one that fails mid-way keeps what it had, and the nvidia probe needs nvidia-smi', async () => {
    let n = 0
    const flaky: Probe = { sample: () => { if (++n > 3) throw new Error('device lost'); return { value: n } } }
    const registry = createRegistry([probes(), definePlugin({ name: 'test', probes: {
      flaky: async () => flaky,
      absent: async () => ({ unavailable: 'no such device here' }),
    } })])
    const running = await startProbes(['flaky', 'absent', 'nvidia'], registry, { pids: [process.pid], options: {} }, 20)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const result = await running.stop()
    expect(result.absent).toEqual({ available: false, reason: 'no such device here' })
    // The mean weighs each sample by the time it covers (about equal here).
    expect(result.flaky).toMatchObject({ available: true, summary: { value: { mean: expect.closeTo(2, 0), max: 3 } }, samples: { series: { value: [1, 2, 3] } } })
    // Without an NVIDIA driver the probe says so instead of reporting zeros.
    if (spawnSync('nvidia-smi', ['-L']).error) expect(result.nvidia).toEqual({ available: false, reason: 'nvidia-smi is not installed (no NVIDIA GPU or driver here)' })
    else expect(result.nvidia).toMatchObject({ available: true, info: { gpu0Name: expect.any(String) } })
  })

  it('rapl: package power from powercap energy counters, across a counter wrap; absent or unreadable powercap says so', async () => {
    const root = mkdtempSync(join(tmpdir(), 'inferbench-powercap-'))
    try {
      const zone = join(root, 'intel-rapl:0')
      mkdirSync(zone)
      writeFileSync(join(zone, 'name'), 'package-0\n')
      writeFileSync(join(zone, 'max_energy_range_uj'), '262143328850\n')
      writeFileSync(join(zone, 'energy_uj'), '262143000000\n') // close to the wrap
      mkdirSync(join(root, 'intel-rapl:0:0')) // a subzone (core): not a package, ignored
      const made = await createRegistry([probes({ powercapRoot: root })]).probe('rapl')({ pids: [] })
      if ('unavailable' in made) throw new Error(made.unavailable)
      expect(await made.describe!()).toEqual({ zone0: 'package-0' })
      await new Promise((resolve) => setTimeout(resolve, 200))
      // 3,000,000 µJ later, past the wrap: 328,850 before it and 2,671,150 after.
      writeFileSync(join(zone, 'energy_uj'), '2671150\n')
      const sample = await made.sample()
      // 3 J over the time between the readings (0.2 s, more on a loaded machine): a few watts,
      // not a negative or a 262 kJ reading from a mishandled wrap.
      expect(sample.packagePowerW).toBeGreaterThan(3 / 5)
      expect(sample.packagePowerW).toBeLessThan(3 / 0.19)
      expect(sample.package0PowerW).toBe(sample.packagePowerW)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
    const missing = await createRegistry([probes({ powercapRoot: '/nonexistent/powercap' })]).probe('rapl')({ pids: [] })
    expect(missing).toEqual({ unavailable: '/nonexistent/powercap does not exist (no RAPL powercap here: a VM, or not Linux)' })
  })
})

describe('probe summaries', () => {
  it('weigh each sample by the time it covers, and skip a last sample only moments after the one before', async () => {
    // A probe whose value is the time since it was last sampled: a plain mean over a short last
    // span would drag the summary down; the time-weighted one does not.
    let last = performance.now()
    const registry = createRegistry([definePlugin({ name: 'spans', probes: { span: async () => ({ sample: () => { const now = performance.now(); const v = now - last; last = now; return { spanMs: v } } }) } })])
    const running = await startProbes(['span'], registry, { pids: [], options: {} }, 100)
    await new Promise((resolve) => setTimeout(resolve, 330))
    const result = await running.stop()
    if (!result.span?.available) throw new Error('span probe unavailable')
    const spans = result.span.samples.series.spanMs!
    // Samples at ~100, 200, 300 ms and one more at stop (~330 ms) only when it covers half an interval or more.
    expect(spans.every((s) => s >= 50)).toBe(true)
    expect(result.span.summary.spanMs!.mean).toBeGreaterThan(80)
  })
})
