import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { assignShards, parseShard } from '../../core/schedule/shard.ts'
import { runCli, tempProject } from '../helpers/temp-project.ts'

describe('shard split', () => {
  it('longest estimate first onto the least-loaded shard: balanced by estimated duration, each job once', () => {
    const jobs = [10, 9, 8, 7, 6, 5, 4].map((s, i) => ({ id: `j${i}`, estimateMs: s * 1000 }))
    const shardOf = assignShards(jobs, 3)
    const load = [0, 0, 0]
    shardOf.forEach((s, i) => { load[s]! += jobs[i]!.estimateMs })
    expect(load).toEqual([19_000, 15_000, 15_000])
    // A skipped job costs nothing and goes to the first shard; the split is the same every time.
    expect(assignShards([...jobs, { id: 'skipped', estimateMs: 99_000, skip: 'describe.skip' }], 3)).toEqual([...shardOf, 0])
    expect(() => parseShard('3/2')).toThrow(/--shard: expected <index>\/<count> with 1 ≤ index ≤ count, e\.g\. --shard=2\/4, received '3\/2'/)
  })
})

// A backend that answers after `ms` of busy work, so the jobs' durations differ as their workloads say.
const project = tempProject({
  'inferbench.config.ts': `import { defineConfig, definePlugin } from 'inferbench'
const quick = definePlugin({ name: 'quick', backends: { quick: async () => ({ infer: async () => { const until = performance.now() + 0.2; while (performance.now() < until); }, close: async () => {} }) } })
export default defineConfig({ plugins: [quick], defaults: { warmup: false }, measurement: { minDuration: 50, minRequests: 5 }, perfDb: 'perf.db' })
`,
  'a.bench.ts': `import { bench, describe, workload } from 'inferbench'
describe('a', { backend: 'quick' }, () => {
  for (const ms of [400, 300, 250, 200, 150, 100]) bench(\`\${ms}ms\`, { workload: workload.closed({ duration: \`\${ms}ms\` }) })
  bench.skip('skipped', { workload: workload.closed({ duration: '100ms' }) })
})
`,
})
afterAll(() => project.cleanup())
const cli = (...args: string[]) => runCli(args, project.dir)

describe('--shard and merge', () => {
  it('the shards cover every job exactly once; merge equals the unsharded job set, histograms and all', async () => {
    const full = await cli('--no-store', '--reporter', 'json', '--outputFile', 'full.json')
    expect(full.code, full.stderr).toBe(0)
    for (const i of [1, 2, 3]) {
      const shard = await cli(`--shard=${i}/3`, '--no-store')
      expect(shard.code, shard.stderr).toBe(0)
      expect(shard.stdout).toMatch(new RegExp(`shard ${i}/3: blob \\.inferbench/shards/shard-${i}-of-3\\.json`))
    }
    const merged = await cli('merge', '.inferbench/shards', '--outputFile', 'merged.json')
    expect(merged.code, merged.stderr).toBe(0)
    expect(merged.stdout).toMatch(/merged 3 shards \(1\/3 on .*, 2\/3 on .*, 3\/3 on .*\): 7 jobs, 6 passed, 0 failed, 0 errored, 1 skipped; report merged\.json; PerfDB run 1/)
    const read = (f: string) => JSON.parse(readFileSync(join(project.dir, f), 'utf8')) as { jobs: Array<{ id: string; status: string; histogram?: string }> }
    const a = read('full.json')
    const b = read('merged.json')
    expect(b.jobs.map((j) => `${j.id}:${j.status}`)).toEqual(a.jobs.map((j) => `${j.id}:${j.status}`))
    expect(b.jobs.filter((j) => j.status === 'passed').every((j) => (j.histogram?.length ?? 0) > 10)).toBe(true)
    // Each shard ran a share of the estimated time: 1,500 ms of workload over three shards.
    const lists = await Promise.all([1, 2, 3].map((i) => cli(`--shard=${i}/3`, '--list')))
    const ids = lists.flatMap((l) => [...l.stdout.matchAll(/^ {2}([0-9a-f]{12}) /gm)].map((m) => m[1]))
    expect(new Set(ids).size).toBe(7)
    expect(ids).toHaveLength(7)
    // The same merge again is the same run, not a second copy.
    const again = await cli('merge', '.inferbench/shards')
    expect(again.stdout).toMatch(/PerfDB run 1\n/)
    const history = await cli('history', '--json')
    expect((JSON.parse(history.stdout) as Array<{ source: string }>)[0]!.source).toBe('merge:.inferbench/shards')
  }, 120_000)

  it('merge refuses a missing shard and blobs of mixed schema versions, naming the file', async () => {
    const dir = join(project.dir, '.inferbench/shards')
    const blob = join(dir, 'shard-2-of-3.json')
    const saved = readFileSync(blob, 'utf8')
    writeFileSync(blob, saved.replace('"schemaVersion":1', '"schemaVersion":2'))
    const mixed = await cli('merge', '.inferbench/shards', '--no-store')
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toMatch(/merge: shard blobs of schema versions 1 and 2; this inferbench merges version 1 only/)
    rmSync(blob)
    const missing = await cli('merge', '.inferbench/shards', '--no-store')
    expect(missing.stderr).toMatch(/merge: missing shard 2\/3: run it first \(npx inferbench --shard=2\/3\)/)
    // CI artifact downloads put each blob in a folder of its own: merge finds it there.
    mkdirSync(join(dir, 'artifact-2'))
    writeFileSync(join(dir, 'artifact-2/shard-2-of-3.json'), saved)
    const nested = await cli('merge', '.inferbench/shards', '--no-store')
    expect(nested.code, nested.stderr).toBe(0)
    rmSync(join(dir, 'artifact-2'), { recursive: true })
    writeFileSync(blob, saved)
    expect(readdirSync(dir)).toHaveLength(3)
    // A shard planned after the bench changed (same job ids, another workload) does not merge.
    const bench = join(project.dir, 'a.bench.ts')
    const original = readFileSync(bench, 'utf8')
    writeFileSync(bench, original.replace("bench(\`\${ms}ms\`, { workload: workload.closed({ duration: \`\${ms}ms\` }) })", "bench(\`\${ms}ms\`, { workload: workload.closed({ duration: \`\${ms}ms\` }), warmup: '10ms' })"))
    const changed = await cli('--shard=2/3', '--no-store')
    writeFileSync(bench, original)
    expect(changed.code, changed.stderr).toBe(0)
    const mismatched = await cli('merge', '.inferbench/shards', '--no-store')
    expect(mismatched.code).toBe(2)
    expect(mismatched.stderr).toMatch(/was planned with different bench settings than .*shard-1-of-3\.json/)
    // More shards than jobs: an empty shard succeeds and leaves its blob.
    const empty = await cli('--shard=9/9', '--no-store', '--shard-dir', 'wide')
    expect(empty.code, empty.stderr).toBe(0)
    expect(empty.stdout).toMatch(/shard 9\/9 has no job to run; its blob is wide\/shard-9-of-9\.json/)
  }, 60_000)
})
