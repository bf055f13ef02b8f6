import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { CLI, runCli, tempProject } from '../helpers/temp-project.ts'

const project = tempProject({
  'inferbench.config.ts': `export default {
  include: ['tiny.bench.ts'],
  measurement: { minDuration: 200, minRequests: 20 },
  cost: { region: 'us-east-1', instance: 'aws:c7i.xlarge' },
}
`,
  'tiny.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('tiny', { model: model.generate('fc', { layers: 1, width: 16 }), probes: ['cpu'], workload: workload.closed({ duration: '400ms' }), warmup: false })
`,
  'bad-probe.bench.ts': `import { bench, model } from 'inferbench'
bench('bad', { model: model.generate('fc', { layers: 1, width: 16 }), probes: ['gpuz'] })
`,
  'bad-region.config.ts': `export default { include: ['tiny.bench.ts'], cost: { region: 'atlantis' } }
`,
})
afterAll(() => project.cleanup())
const cli = (...args: string[]) => runCli(args, project.dir)

describe('inferbench show, per-bench probes and cost', () => {
  it('a run keeps what it ran with; show prints it, with the model hash and the machine', async () => {
    const run = await cli('--reporter', 'json', '--outputFile', 'r.json')
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const job = (JSON.parse(readFileSync(join(project.dir, 'r.json'), 'utf8')) as { jobs: Array<Record<string, any>> }).jobs[0]!
    // The bench's own probe list replaced the config's (cpu, memory).
    expect(job.settings.probes).toEqual(['cpu'])
    expect(Object.keys(job.probes)).toEqual(['cpu'])
    expect(job.settings.workload).toMatchObject({ kind: 'closed', concurrency: 1, durationMs: 400 })
    expect(job.settings.warmup).toBe(false)
    // Cost: CPU power estimated from the cpu probe; US grid; c7i.xlarge's price over the measured rate.
    expect(job.cost.energy.basis).toBe('estimated')
    expect(job.cost.energy.perRequestJ).toBeCloseTo((job.cost.energy.powerW * job.durationMs) / 1000 / job.requests.ok, 9)
    expect(job.cost.co2.gramsPerKWh).toBe(369)
    expect(job.cost.cloud.perMillionRequestsUsd).toBeCloseTo((0.1785 / (job.throughput.requestsPerSec * 3600)) * 1e6, 9)

    const shown = await cli('show')
    expect(shown.code, shown.stderr).toBe(0)
    expect(shown.stdout).toContain(`sha256 ${job.model.sha256}`)
    expect(shown.stdout).toMatch(/probes +\["cpu"\]/)
    expect(shown.stdout).toMatch(/workload +\{"label":"closed\(c=1, 0\.4s\)","kind":"closed","concurrency":1,"durationMs":400\}/)
    expect(shown.stdout).toContain(`kernel ${os.release()}`)
    expect(shown.stdout).toMatch(/git +not a git checkout/)
    const json = JSON.parse((await cli('show', '1', '--json')).stdout) as { runId: number; fingerprint: { os: { release: string } }; jobs: Array<{ model: string }> }
    expect(json.runId).toBe(1)
    expect(json.fingerprint.os.release).toBe(os.release())
    expect(json.jobs[0]!.model).toContain(job.model.sha256)

    // A reader that stops early (| head) ends the output quietly, without a stack trace.
    const piped = spawnSync('bash', ['-c', `node ${JSON.stringify(CLI)} show | head -1`], { cwd: project.dir, encoding: 'utf8' })
    expect(piped.stderr).not.toMatch(/EPIPE|Unhandled/)
    // A report path for a reporter this run does not use is said, not silently ignored.
    const missing = await cli('show', '99')
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/holds no run 99; latest: 1/)
  }, 60_000)

  it('an unknown probe in a bench, or an unknown cost region, stops before any job with the known names', async () => {
    const probe = await cli('bad-probe.bench.ts', '--list')
    expect(probe.code).toBe(2)
    expect(probe.stderr).toMatch(/bad-probe\.bench\.ts > bad: probes: unknown probe 'gpuz'; registered: cpu, memory, rapl, nvidia/)
    // Two reporters on stdout would interleave: refused before any job, naming the one to move to a file.
    const both = await cli('--reporter', 'default', '--reporter', 'json')
    expect(both.code).toBe(2)
    expect(both.stderr).toMatch(/reporters default and json would all write to stdout; give json a file: --outputFile\.json=<path>/)
    // One path for two file reporters: the HTML page would overwrite the JSON report.
    const shared = await cli('--reporter', 'json', '--reporter', 'html', '--outputFile', 'r.json')
    expect(shared.code).toBe(2)
    expect(shared.stderr).toMatch(/outputFile r\.json is one path and reporters json and html would each write it; give each its own: --outputFile\.json=<path> --outputFile\.html=<path>/)
    const ignored = await cli('--outputFile.json=x.json', '-t', 'nothing matches')
    expect(ignored.stderr).toMatch(/outputFile\.json is set but the json reporter is not used in this run, so nothing is written there; add --reporter json --reporter default/)
    const region = await cli('-c', 'bad-region.config.ts', '--list')
    expect(region.code).toBe(2)
    expect(region.stderr).toMatch(/bad-region\.config\.ts: cost\.region: unknown region or grid 'atlantis'; known: world, US/)
  }, 30_000)
})
