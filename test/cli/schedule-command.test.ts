import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, tempProject } from '../helpers/temp-project.ts'

const project = tempProject({})
afterAll(() => project.cleanup())
const cli = (...args: string[]) => runCli(args, project.dir)

describe('inferbench schedule simulate', () => {
  it('no flags: the documented setting, with QA-LB + SJF ≥ 1.4× over RR + FCFS; a trace replays its jobs; bad input is named', async () => {
    const defaults = await cli('schedule', 'simulate', '--json')
    expect(defaults.code, defaults.stderr).toBe(0)
    const parsed = JSON.parse(defaults.stdout) as { setting: { workers: number; jobs: number }; policies: Record<string, { meanJct: number; p50Jct: number; p95Jct: number; makespan: number; speedup: number }> }
    expect(Object.keys(parsed.policies)).toEqual(['rr-fcfs', 'lb-sjf', 'qa-sjf'])
    expect(parsed.setting).toMatchObject({ workers: 8, jobs: 2400 })
    expect(parsed.policies['qa-sjf']!.speedup).toBeGreaterThanOrEqual(1.4)

    // Two workers, jobs of 10, 1, 1, 1 s at t=0: qa-sjf sends the short ones to the free worker.
    writeFileSync(join(project.dir, 'jobs.csv'), 'arrival,duration\n0,10\n0,1\n0,1\n0,1\n')
    const traced = await cli('schedule', 'simulate', '--trace', 'jobs.csv', '--workers', '2', '--policy', 'rr-fcfs,qa-sjf', '--json')
    expect(traced.code, traced.stderr).toBe(0)
    const t = JSON.parse(traced.stdout) as typeof parsed
    expect(t.policies['rr-fcfs']).toMatchObject({ meanJct: 6, makespan: 11, speedup: 1 })
    expect(t.policies['qa-sjf']).toMatchObject({ meanJct: 4, p50Jct: 2, p95Jct: 10, makespan: 10, speedup: 1.5 })
    const table = await cli('schedule', 'simulate', '--trace', 'jobs.csv', '--workers', '2')
    expect(table.stdout).toMatch(/qa-sjf +4\.0 +2\.0 +10\.0 +10\.0 +1\.50×/)

    writeFileSync(join(project.dir, 'bad.csv'), '0,10\n1,ten\n')
    const bad = await cli('schedule', 'simulate', '--trace', 'bad.csv')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/bad\.csv:2: duration: expected a number > 0, found "ten"/)
    const both = await cli('schedule', 'simulate', '--trace', 'jobs.csv', '--jobs', '10')
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/--jobs shapes a synthetic stream; --trace replays the file's jobs instead/)
    const load = await cli('schedule', 'simulate', '--load', '2')
    expect(load.code).toBe(2)
    expect(load.stderr).toMatch(/--load sets the rate of Poisson arrivals; add --arrivals poisson/)
    const policy = await cli('schedule', 'simulate', '--policy', 'sjf')
    expect(policy.code).toBe(2)
    expect(policy.stderr).toMatch(/unknown scheduling policy 'sjf'/)
  }, 60_000)
})
