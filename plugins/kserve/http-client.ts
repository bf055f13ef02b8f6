import { Pool } from 'undici'
import type { InferAnswer, ServerStatistics } from '../../core/plugin-api.ts'
import { toJson } from '../server/datatypes.ts'
import type { V2Input } from './v2-inputs.ts'

const HEADER_LENGTH = 'inference-header-content-length'

export interface PreparedHttpRequest {
  headers: Record<string, string>
  body: Buffer
}

/**
 * A KServe v2 HTTP client on an undici connection pool. The request body is built once and sent
 * as is for every request; answers are read in full and their timing parameters parsed.
 */
export class KserveHttpClient {
  private readonly pool: Pool
  private readonly inferPath: string

  constructor(readonly baseUrl: string, readonly modelName: string, connections: number) {
    this.pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000 })
    this.inferPath = `/v2/models/${encodeURIComponent(modelName)}/infer`
  }

  /** Binary tensor extension (default) or plain JSON `data`. Outputs come back binary unless JSON was asked. */
  prepare(inputs: V2Input[], encoding: 'binary' | 'json'): PreparedHttpRequest {
    if (encoding === 'json') {
      const body = Buffer.from(JSON.stringify({ inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, data: toJson(i.values) })) }))
      return { headers: { 'content-type': 'application/json' }, body }
    }
    const header = Buffer.from(JSON.stringify({
      inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, parameters: { binary_data_size: i.raw.byteLength } })),
      parameters: { binary_data_output: true },
    }))
    return {
      headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length) },
      body: Buffer.concat([header, ...inputs.map((i) => i.raw)]),
    }
  }

  async infer(request: PreparedHttpRequest): Promise<InferAnswer> {
    const res = await this.pool.request({ path: this.inferPath, method: 'POST', headers: request.headers, body: request.body })
    const body = Buffer.from(await res.body.arrayBuffer())
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} from ${this.baseUrl}${this.inferPath}: ${errorText(body)}`)
    const headerLength = res.headers[HEADER_LENGTH]
    const json = JSON.parse(body.subarray(0, headerLength === undefined ? body.length : Number(headerLength)).toString('utf8')) as {
      parameters?: { queue_us?: number; compute_us?: number }
    }
    const p = json.parameters
    return p && p.queue_us !== undefined ? { serverTimings: { queueUs: p.queue_us, computeUs: p.compute_us ?? 0 } } : {}
  }

  async getJson<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await this.pool.request({ path, method: 'GET' })
    const text = await res.body.text()
    return { status: res.statusCode, body: (text ? JSON.parse(text) : {}) as T }
  }

  /** Polls /v2/health/ready until 200 or the deadline. */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = ''
    while (Date.now() < deadline) {
      try {
        const { status } = await this.getJson('/v2/health/ready')
        if (status === 200) return
        last = `HTTP ${status}`
      } catch (error) {
        last = (error as Error).message
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`${this.baseUrl} was not ready within ${timeoutMs} ms (${last})`)
  }

  /** Triton's statistics extension, summed into cumulative counters. */
  async statistics(): Promise<ServerStatistics> {
    const { status, body } = await this.getJson<{ model_stats?: Array<{ inference_stats: Record<string, { count: number; ns: number }> }> }>(
      `/v2/models/${encodeURIComponent(this.modelName)}/stats`)
    if (status !== 200 || !body.model_stats) throw new Error(`statistics of ${this.modelName}: HTTP ${status}`)
    let requests = 0
    let queueNs = 0
    let computeNs = 0
    for (const m of body.model_stats) {
      const s = m.inference_stats
      requests += Number(s.success?.count ?? 0)
      queueNs += Number(s.queue?.ns ?? 0)
      computeNs += Number(s.compute_input?.ns ?? 0) + Number(s.compute_infer?.ns ?? 0) + Number(s.compute_output?.ns ?? 0)
    }
    return { requests, queueUs: queueNs / 1000, computeUs: computeNs / 1000 }
  }

  close(): Promise<void> {
    return this.pool.close()
  }
}

function errorText(body: Buffer): string {
  try {
    return (JSON.parse(body.toString('utf8')) as { error?: string }).error ?? body.toString('utf8')
  } catch {
    return body.toString('utf8').slice(0, 500)
  }
}
