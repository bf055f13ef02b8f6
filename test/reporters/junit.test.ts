import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, tempProject } from '../helpers/temp-project.ts'

const project = tempProject({
  'inferbench.config.ts': `import { defineConfig, definePlugin } from 'inferbench'
const fake = definePlugin({ name: 'fake', backends: {
  quick: async () => ({ infer: async () => {}, close: async () => {} }),
  broken: async () => { throw new Error('device <lost> & "gone"') },
} })
export default defineConfig({ plugins: [fake], defaults: { warmup: false }, measurement: { minDuration: 0, minRequests: 10 }, perfDb: false })
`,
  'ci.bench.ts': `import { bench, describe, workload } from 'inferbench'
describe('serving', { backend: 'quick' }, () => {
  bench('meets its SLO', { workload: workload.closed({ requests: 2000 }), slo: { p99: '1s' } })
  bench('misses its SLOs', { workload: workload.closed({ requests: 2000 }), slo: { p99: 0.000001, throughput: 1e9 } })
  bench('crashes', { backend: 'broken', workload: workload.closed({ requests: 50 }) })
  bench.skip('not today', { workload: workload.closed({ requests: 50 }) })
})
`,
})
afterAll(() => project.cleanup())

type Attrs = Record<string, string>
type Case = Attrs & { failure?: unknown; error?: unknown; skipped?: unknown }

describe('junit reporter', () => {
  it('writes JUnit XML CI readers accept: a testcase per job, a failure per unmet SLO with measured vs limit, errors and skips', async () => {
    const run = await runCli(['--reporter', 'junit', '--reporter', 'default', '--outputFile.junit=out/junit.xml'], project.dir)
    expect(run.code).toBe(1)
    const xml = readFileSync(join(project.dir, 'out/junit.xml'), 'utf8')
    expect(XMLValidator.validate(xml)).toBe(true)
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'failure', 'property'].includes(name) }).parse(xml) as {
      testsuites: Attrs & { testsuite: Array<Attrs & { testcase: Case[] }> }
    }
    // The structure the JUnit schema (Jenkins / Ant) asks for: counts on every level, name, classname and time on every case.
    const root = doc.testsuites
    expect(root).toMatchObject({ tests: '4', failures: '1', errors: '1', skipped: '1' })
    const [suite] = root.testsuite
    expect(suite).toMatchObject({ name: 'ci.bench.ts > serving', tests: '4', failures: '1', errors: '1', skipped: '1' })
    for (const c of suite!.testcase) {
      expect(c.classname).toBe('ci.bench.ts > serving')
      expect(c.time).toMatch(/^\d+\.\d{3}$/)
    }
    const byName = (n: string) => suite!.testcase.find((c) => String(c.name).startsWith(n))!
    expect(byName('meets its SLO').failure).toBeUndefined()
    const failures = byName('misses its SLOs').failure as Array<Attrs & { '#text': string }>
    expect(failures.map((f) => f.type)).toEqual(['slo', 'slo'])
    expect(failures[0]!.message).toMatch(/^SLO p99 \S+ not <= \S+$/)
    expect(failures[0]!['#text']).toMatch(/^measured p99 [\d.e-]+ ms, limit <= 0\.000001 ms$/)
    expect(failures[1]!['#text']).toMatch(/^measured throughput [\d.]+ req\/s, limit >= 1000000000 req\/s$/)
    expect(byName('crashes').error).toMatchObject({ type: 'Error', message: expect.stringContaining('device <lost> & "gone"') })
    expect(byName('not today').skipped).toMatchObject({ message: 'bench.skip' })
    expect(xml).toMatch(/<property name="p99_ms" value="[\d.e-]+"\/>/)
  }, 60_000)
})
