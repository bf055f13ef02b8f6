import { afterAll, describe, expect, it } from 'vitest'
import { PerfDb } from '../../core/store/perf-db.ts'
import { runCli, tempProject } from '../helpers/temp-project.ts'
import { join } from 'node:path'

const project = tempProject({
  'inferbench.config.ts': "export default { perfDb: '.inferbench/perf.db', measurement: { minDuration: '200ms', minRequests: 20 } }\n",
})
afterAll(() => project.cleanup())

describe('inferbench tune', () => {
  it('measures the goodput of each configuration, names the best, stores them for recommend; bad input is named', async () => {
    const tuned = await runCli(['tune', 'fc', '--param', 'layers=1', '--param', 'width=64', '--slo', 'p90<20ms', '--backends', 'onnxruntime', '--batch', '1,4', '--instances', '1', '--step', '300ms', '--json'], project.dir, 120_000)
    expect(tuned.stderr).toBe('')
    const result = JSON.parse(tuned.stdout) as { method: string; runId: number; explored: Array<{ config: Record<string, unknown>; goodputSamplesPerSec: number }>; best: { config: Record<string, unknown>; goodputSamplesPerSec: number }; recommended: unknown[] }
    expect(result.method).toBe('exhaustive')
    expect(result.explored.map((e) => e.config)).toEqual([{ backend: 'onnxruntime', batch: 1, instances: 1 }, { backend: 'onnxruntime', batch: 4, instances: 1 }])
    expect(result.explored.every((e) => e.goodputSamplesPerSec > 0)).toBe(true)
    expect(result.best.goodputSamplesPerSec).toBe(Math.max(...result.explored.map((e) => e.goodputSamplesPerSec)))
    // Stored as one PerfDB run, each job carrying its peak search.
    const db = PerfDb.open(join(project.dir, '.inferbench/perf.db'))
    try {
      const jobs = db.jobs(result.runId)
      expect(jobs).toHaveLength(2)
      expect(jobs.map((j) => (j.report as { peak?: { goodputSamplesPerSec: number } }).peak?.goodputSamplesPerSec)).toEqual(result.explored.map((e) => e.goodputSamplesPerSec))
    } finally {
      db.close()
    }
    const recommended = await runCli(['recommend', '--slo', 'p90<20ms'], project.dir)
    expect(recommended.stdout).toMatch(/1\. .*backend=onnxruntime/)
    const bad = await runCli(['tune', 'fc', '--slo', 'throughput>=10'], project.dir)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/tune: --slo needs a latency limit/)
    expect((await runCli(['tune', 'fc', '--slo', 'p99<5ms', '--backends', 'tfserving'], project.dir)).stderr).toMatch(/tune runs the model itself, on onnxruntime or server/)
  }, 150_000)
})
