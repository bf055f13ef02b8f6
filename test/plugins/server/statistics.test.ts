import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../../plugins/server/serve.ts'
import { serveForTest, tempMlp } from '../../helpers/served-model.ts'

const mlp = tempMlp(2, 64, 16, 4)
const { path: modelPath } = mlp
let server: RunningServer
beforeAll(async () => {
  server = await serveForTest([{ path: modelPath }], { batching: { maxBatch: 8, maxQueueDelayUs: 30_000, preferredBatch: [] } })
})
afterAll(async () => {
  await server.stop()
  mlp.cleanup()
})

const base = () => `http://127.0.0.1:${server.httpPort}`
type Stats = { inference_stats: Record<'success' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', { count: number; ns: number }> }
const stats = async () => ((await (await request(`${base()}/v2/models/mlp/stats`)).body.json()) as { model_stats: Stats[] }).model_stats[0]!
const metric = async (name: string) => Number(new RegExp(`^${name}\\{model="mlp"\\} (\\S+)$`, 'm').exec(await (await request(`${base()}/metrics`)).body.text())?.[1] ?? 0)

describe("the server's three views of compute time agree (Triton's statistics convention)", () => {
  it('each answer\'s compute_us, the /stats deltas and /metrics count a batch\'s time once per request', async () => {
    const before = { stats: await stats(), metric: await metric('inferbench_inference_compute_duration_us') }
    // Four requests inside one 30 ms batching window: one execution serving four requests.
    const answers = await Promise.all([1, 2, 3, 4].map(async () => {
      const res = await request(`${base()}/v2/models/mlp/infer`, {
        method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: new Array(16).fill(0.25) }] }),
      })
      return (await res.body.json() as { parameters: { compute_us: number; batch_rows: number } }).parameters
    }))
    expect(answers.map((a) => a.batch_rows)).toEqual([4, 4, 4, 4])
    const after = { stats: await stats(), metric: await metric('inferbench_inference_compute_duration_us') }
    const delta = (k: keyof Stats['inference_stats']) => ({
      count: after.stats.inference_stats[k].count - before.stats.inference_stats[k].count,
      ns: after.stats.inference_stats[k].ns - before.stats.inference_stats[k].ns,
    })
    const computeNs = delta('compute_input').ns + delta('compute_infer').ns + delta('compute_output').ns
    const fromAnswers = answers.reduce((s, a) => s + a.compute_us, 0)
    expect(delta('compute_infer').count).toBe(4)
    // Each answer rounds to a whole µs: the sums agree within that.
    expect(Math.abs(computeNs / 1000 - fromAnswers)).toBeLessThanOrEqual(4)
    expect(Math.abs((after.metric - before.metric) - fromAnswers)).toBeLessThanOrEqual(4)
    // All four carry the same batch's compute time.
    expect(Math.max(...answers.map((a) => a.compute_us)) - Math.min(...answers.map((a) => a.compute_us))).toBeLessThanOrEqual(1)
  })
})

describe('KServe statistics over gRPC, and servers without them', () => {
  it('the gRPC client reads the same counters as HTTP; a server without the extension means "no statistics", not an error', async () => {
    const grpc = await import('@grpc/grpc-js')
    const { KserveGrpcClient } = await import('../../../plugins/shared/v2/grpc-client.ts')
    const { KserveHttpClient } = await import('../../../plugins/shared/v2/http-client.ts')
    const { loadKserveService } = await import('../../../plugins/shared/v2/service.ts')
    const both = await serveForTest([{ path: modelPath }], { grpcPort: 0 })
    // A plain v2 gRPC server: the standard RPCs only, so ModelStatistics is UNIMPLEMENTED.
    const plain = new grpc.Server()
    plain.addService(loadKserveService().service, { ServerReady: (_call: unknown, cb: (e: null, r: unknown) => void) => cb(null, { ready: true }) })
    const plainPort = await new Promise<number>((resolve, reject) => plain.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))))
    const overGrpc = new KserveGrpcClient(`127.0.0.1:${both.grpcPort}`, 'mlp')
    const overHttp = new KserveHttpClient(`http://127.0.0.1:${both.httpPort}`, 'mlp', 1)
    const noStats = new KserveGrpcClient(`127.0.0.1:${plainPort}`, 'mlp')
    try {
      await request(`http://127.0.0.1:${both.httpPort}/v2/models/mlp/infer`, {
        method: 'POST', body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 16], data: new Array(16).fill(0.5) }] }),
      }).then((r) => r.body.text())
      const viaGrpc = await overGrpc.statistics()
      expect(viaGrpc).toEqual(await overHttp.statistics())
      expect(viaGrpc!.requests).toBe(1)
      expect(viaGrpc!.computeUs).toBeGreaterThan(0)
      expect(await noStats.statistics()).toBeUndefined()
      // A plain v2 HTTP server: /stats is not a route there (404). Before, every job against it errored.
      const http = await import('node:http')
      const plainHttp = http.createServer((_req, res) => { res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}') })
      await new Promise<void>((resolve) => plainHttp.listen(0, '127.0.0.1', resolve))
      const noHttpStats = new KserveHttpClient(`http://127.0.0.1:${(plainHttp.address() as { port: number }).port}`, 'mlp', 1)
      try {
        expect(await noHttpStats.statistics()).toBeUndefined()
      } finally {
        await noHttpStats.close()
        plainHttp.close()
      }
    } finally {
      overGrpc.close()
      noStats.close()
      await overHttp.close()
      plain.forceShutdown()
      await both.stop()
    }
  })
})
