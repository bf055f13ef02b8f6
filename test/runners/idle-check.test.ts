import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { configSchema } from '../../core/config.ts'
import { createRegistry } from '../../core/plugin.ts'
import { probes } from '../../plugins/probes/index.ts'
import { waitForIdle } from '../../runners/idle-check.ts'

const registry = createRegistry([probes()])
const settings = (over: Record<string, unknown>) => {
  const idle = configSchema.parse({ measurement: { idle: over } }).measurement.idle
  if (!idle) throw new Error('idle check off')
  return idle
}
// Busy loops on both cores of this machine (and any more), each for `ms`.
const busy: ChildProcess[] = []
const spin = (ms: number) => {
  for (let i = 0; i < 2; i++) busy.push(spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end);`], { stdio: 'ignore' }))
}
afterEach(() => { for (const child of busy.splice(0)) child.kill('SIGKILL') })

describe('idle check (measurement.idle)', () => {
  it('waits while busy loops hold the CPUs and goes on once they end', async () => {
    spin(2500)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const started = performance.now()
    let waits = 0
    const check = await waitForIdle(settings({ maxCpu: 30, window: '250ms', timeout: '20s' }), registry, new AbortController().signal, () => { waits++ })
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThan(1800)
    expect(waits).toBeGreaterThan(3)
    expect(check.waitedMs).toBeGreaterThan(1500)
    expect(check.cpuPct).toBeLessThanOrEqual(30)
  }, 30_000)

  it('a quiet machine goes on after one window', async () => {
    const check = await waitForIdle(settings({ maxCpu: 60, window: '200ms' }), registry, new AbortController().signal)
    // One window looked at: the job starts that much later, no more.
    expect(check.waitedMs).toBeGreaterThanOrEqual(195)
    expect(check.waitedMs).toBeLessThan(400)
  })

  it('gives up after the timeout, naming what was busy and the limit', async () => {
    spin(5000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    await expect(waitForIdle(settings({ maxCpu: 20, window: '200ms', timeout: '1s' }), registry, new AbortController().signal))
      .rejects.toMatchObject({ code: 'INFERBENCH_MACHINE_BUSY', message: expect.stringMatching(/stayed busy for 1\.\ds before the job: CPU \d+% \(limit maxCpu 20%\)/) })
  }, 15_000)
})
