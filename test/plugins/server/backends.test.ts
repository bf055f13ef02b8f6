import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFc } from '../../../plugins/models/fc.ts'
import { serve, type RunningServer } from '../../../plugins/server/serve.ts'
import { TEST_CACHE_DIR, runCli, tempProject } from '../../helpers/temp-project.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-backends-'))
const modelPath = join(dir, 'mlp.onnx')
writeFileSync(modelPath, buildFc({ layers: 2, width: 32, inputDim: 8, outputDim: 4, activation: 'relu' }))
let running: RunningServer
beforeAll(async () => {
  running = await serve({ models: [{ path: modelPath, name: 'mlp' }], host: '127.0.0.1', httpPort: 0, grpcPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'test' })
})
afterAll(async () => {
  await running.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface JobJson {
  name: string
  status: string
  params: Record<string, unknown>
  requests: { ok: number; errors: number }
  serverTimings?: { computeMs: number; queueMs: number; source: string }
  coldStart?: Record<string, number>
  error?: { message: string }
  throughput: { requestsPerSec: number }
  probes?: Record<string, { available: boolean; reason?: string; summary?: Record<string, { mean: number }> }>
}

describe('network backends against inferbench serve', () => {
  it('kserve (HTTP and gRPC) against a running server, and server (spawned per job, with and without batching)', async () => {
    const p = tempProject({
      'inferbench.config.ts': `export default { cacheDir: ${JSON.stringify(TEST_CACHE_DIR)}, defaults: { warmup: 100 }, measurement: { minDuration: 100, minRequests: 10 } }\n`,
      'net.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
const w = workload.closed({ concurrency: 4, duration: '300ms' })
describe('net', { model: model.file(${JSON.stringify(modelPath)}), batch: 2 }, () => {
  bench('kserve http', { backend: 'kserve', url: 'http://127.0.0.1:${running.httpPort}', workload: w })
  bench('kserve grpc', { backend: 'kserve', url: 'grpc://127.0.0.1:${running.grpcPort}', workload: w })
  bench('kserve json', { backend: 'kserve', url: 'http://127.0.0.1:${running.httpPort}', encoding: 'json', workload: w })
  bench('triton alias', { backend: 'triton', url: 'grpc://127.0.0.1:${running.grpcPort}', workload: w })
  bench('kserve wrong model', { backend: 'kserve', url: 'http://127.0.0.1:${running.httpPort}', modelName: 'other', workload: w })
  bench('server', { backend: 'server', protocol: ['http', 'grpc'], maxBatch: [0, 8], workload: w, probes: ['prometheus'] })
})
`,
    })
    try {
      const run = await runCli(['--reporter=json'], p.dir)
      const jobs = JSON.parse(run.stdout).jobs as JobJson[]
      const byName = (name: string) => jobs.filter((j) => j.name === name)
      for (const name of ['kserve http', 'kserve grpc', 'kserve json', 'triton alias']) {
        const [job] = byName(name)
        expect(job!.status, `${name}: ${job!.error?.message}`).toBe('passed')
        expect(job!.requests.errors).toBe(0)
        expect(job!.serverTimings).toMatchObject({ source: 'answers' })
        expect(job!.serverTimings!.computeMs).toBeGreaterThan(0)
      }
      expect(byName('kserve wrong model')[0]!.status).toBe('errored')
      expect(byName('kserve wrong model')[0]!.error!.message).toMatch(/does not serve model 'other'.*unknown model 'other'; served: mlp/)
      const spawned = byName('server')
      expect(spawned.map((j) => `${j.params.protocol}/${j.params.maxBatch}:${j.status}`)).toEqual(['http/0:passed', 'http/8:passed', 'grpc/0:passed', 'grpc/8:passed'])
      for (const job of spawned) {
        expect(job.coldStart!.spawnToReadyMs).toBeGreaterThan(0)
        expect(job.coldStart!.firstInferMs).toBeGreaterThan(0)
        expect(job.serverTimings!.computeMs).toBeGreaterThan(0)
        // The prometheus probe scrapes the spawned server's own /metrics (HTTP front end only):
        // its count of answered requests per second agrees with the client's.
        const scraped = job.probes!.prometheus!
        if (job.params.protocol === 'grpc') {
          expect(scraped).toMatchObject({ available: false, reason: expect.stringMatching(/no metrics URL/) })
          continue
        }
        expect(scraped.available, scraped.reason).toBe(true)
        const served = scraped.summary!['inferbench_inference_request_success_per_s{model="model"}']!.mean
        expect(served / job.throughput.requestsPerSec).toBeGreaterThan(0.5)
        expect(served / job.throughput.requestsPerSec).toBeLessThan(1.5)
      }
      expect(run.code).toBe(1)
    } finally {
      p.cleanup()
    }
  })
})
