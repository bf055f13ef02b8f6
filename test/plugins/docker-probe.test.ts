import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistry, type Probe } from '../../core/plugin.ts'
import { containerCounters, containerSample } from '../../plugins/probes/docker-stats.ts'
import { probes } from '../../plugins/probes/index.ts'
import { REPO_ROOT } from '../helpers/temp-project.ts'

/**
 * No Docker engine runs here: the probe reads recorded-shape stats answers
 * (fixtures/docker/stats-*.json) from an Engine API stand-in on a unix socket.
 */
const ID = '4f66ad8a4c3b2f0e9d1c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d'
const stats = (n: number) => JSON.parse(readFileSync(join(REPO_ROOT, `fixtures/docker/stats-${n}.json`), 'utf8').replaceAll('{{ID}}', ID)) as object
const dir = mkdtempSync(join(tmpdir(), 'inferbench-docker-probe-'))
const socketPath = join(dir, 'docker.sock')
const asked: string[] = []
let engine: http.Server
beforeAll(async () => {
  let answer = 0
  engine = http.createServer((req, res) => {
    asked.push(req.url ?? '')
    if (!req.url?.includes(`/containers/${ID}/stats`)) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"No such container"}')
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats(1 + Math.min(answer++, 1))))
  })
  await new Promise<void>((resolve) => engine.listen(socketPath, resolve))
})
afterAll(async () => {
  await new Promise<void>((resolve) => engine.close(() => resolve()))
  rmSync(dir, { recursive: true, force: true })
})
const probe = createRegistry([probes()]).probe('docker')

describe('docker probe', () => {
  it('computes CPU as docker stats does (share of host CPU time × online CPUs), memory without the page cache', () => {
    const before = containerCounters(stats(1))!
    const after = containerCounters(stats(2))!
    expect(after.memoryBytes).toBe(1342177280 - 268435456)
    const sample = containerSample(before, after, 1)
    expect(sample.cpuPct).toBeCloseTo(150, 9)
    expect(sample.memoryMiB).toBe(1024)
    expect(sample).toMatchObject({ rxBytesPerSec: 2_000_000, txBytesPerSec: 4_000_000 })
    expect(containerCounters({ memory_stats: { usage: 1 } })).toBeUndefined()
  })

  it('samples the backend\'s containers through the Engine API', async () => {
    const made = await probe({ pids: [], containers: [{ id: ID, socketPath }] })
    expect('unavailable' in made, JSON.stringify(made)).toBe(false)
    const sample = await (made as Probe).sample()
    expect(sample.container0CpuPct).toBeCloseTo(150, 9)
    expect(sample.container0MemoryMiB).toBe(1024)
    expect(asked[0]).toMatch(new RegExp(`/containers/${ID}/stats\\?.*stream=false`))
    expect(asked[0]).toMatch(/one-shot=true/)
  })

  it('says why it cannot run: no container, no engine, an unknown container', async () => {
    expect(await probe({ pids: [] })).toEqual({ unavailable: expect.stringMatching(/started no container/) })
    expect(await probe({ pids: [], containers: [{ id: ID, socketPath: join(dir, 'none.sock') }] })).toEqual({ unavailable: 'cannot read container stats: ENOENT' })
    expect(await probe({ pids: [], containers: [{ id: 'gone', socketPath }] })).toEqual({ unavailable: expect.stringMatching(/cannot read container stats: .*no such container/i) })
  })
})
