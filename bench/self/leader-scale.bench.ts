import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, bench, describe } from 'inferbench'
import { leaderClient } from '../../runners/leader/service.ts'
import { simulateFollowers, type SimulationResult } from '../../runners/leader/simulated-followers.ts'

/**
 * The leader's own cost at cluster scale: `inferbench leader` in its own process, driven over
 * real gRPC on loopback by 200 simulated followers (this process) that register, heartbeat every
 * 2 s, claim, and report at once. Figures: assignments per second, heartbeat and claim round
 * trips. On this 2-core VM the followers' own gRPC work competes with the leader for the cores.
 */
const CLI = new URL('../../bin/inferbench.js', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'inferbench-leader-scale-'))
let leader: ChildProcess
let address = ''
const results: SimulationResult[] = []

beforeAll(async () => {
  leader = spawn(process.execPath, [CLI, 'leader', '--port', '0', '--db', join(dir, 'perf.db')], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  address = await new Promise<string>((resolve, reject) => {
    let err = ''
    leader.stderr!.on('data', (d: Buffer) => {
      err += d.toString()
      const m = /inferbench leader on ([\d.]+:\d+)/.exec(err)
      if (m) resolve(m[1]!)
    })
    leader.once('exit', () => reject(new Error(`leader exited: ${err}`)))
  })
})
afterAll(() => {
  leader.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
  for (const r of results) {
    process.stdout.write(`\n leader scale: ${r.followers} followers, ${r.reportsStored} jobs in ${r.seconds.toFixed(1)} s: ${r.assignmentsPerSec.toFixed(0)} assignments/s; `
      + `heartbeat p50 ${r.heartbeatP50Ms.toFixed(1)} ms, p99 ${r.heartbeatP99Ms.toFixed(1)} ms; claim p50 ${r.claimP50Ms.toFixed(1)} ms; refused ${r.reportsRefused}\n`)
  }
})

describe('leader at scale', () => {
  bench('200 followers, 400 jobs submitted, claimed and reported', async () => {
    const client = leaderClient(address, undefined, '')
    const batches = Array.from({ length: 400 }, (_, i) => i + 1)
    await client.call('Submit', { user: 'scale', suites: [{ name: 'many.bench.yaml', yaml: `model: { generate: fc, params: { layers: 1, width: 8 } }\nmatrix: { batch: [${batches.join(', ')}] }\nbenches:\n  - name: tiny\n    workload: { type: closed, requests: 10 }\n` }] })
    client.close()
    results.push(await simulateFollowers(address, { followers: 200, jobs: 400, heartbeatMs: 2000, timeoutMs: 120_000 }))
  }, { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 })
})
