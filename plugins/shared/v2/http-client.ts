import type { InferAnswer, RunAnswer, ServerStatistics, Tensor, TensorMap } from '../../../core/plugin-api.ts'
import { RawHttpClient, encodeRequest, headerValue } from '../http/raw-client.ts'
import { ORT_TO_V2, V2_TO_ORT, encodeBytesElements, fromJson, fromRaw, rawBytes, toJson, type TypedArray, type V2Datatype } from './datatypes.ts'
import { sumStatistics, type TritonModelStatistics } from './statistics.ts'
import type { V2Input } from './v2-inputs.ts'
import { waitUntilReady } from '../wait-ready.ts'

const HEADER_LENGTH = 'inference-header-content-length'

/**
 * A KServe v2 HTTP client. Inference goes over the load generator's raw keep-alive client: the
 * whole request (headers and tensors) is encoded once and sent as is every time; answers are
 * read in full and only their JSON header is parsed, for the timing parameters. Control calls
 * (readiness, metadata, statistics) use fetch.
 */
export class KserveHttpClient {
  private readonly raw: RawHttpClient
  private readonly inferUrl: URL

  constructor(readonly baseUrl: string, readonly modelName: string, connections: number) {
    const url = new URL(baseUrl)
    this.raw = new RawHttpClient(url.hostname, Number(url.port || 80), connections)
    this.inferUrl = new URL(`/v2/models/${encodeURIComponent(modelName)}/infer`, url)
  }

  /** Binary tensor extension (default) or plain JSON `data`. Outputs come back binary unless JSON was asked. */
  prepare(inputs: V2Input[], encoding: 'binary' | 'json'): Buffer {
    if (encoding === 'json') {
      const body = JSON.stringify({ inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, data: toJson(i.values) })) })
      return encodeRequest(this.inferUrl, 'POST', body, 'application/json')
    }
    return this.binaryRequest(inputs, { binary_data_output: true })
  }

  /** A binary-tensor request: the JSON header naming each input's byte size, then the bytes in order. */
  private binaryRequest(inputs: ReadonlyArray<{ name: string; datatype: string; shape: number[]; raw: Uint8Array }>, parameters: Record<string, unknown>, wanted?: string[]): Buffer {
    const header = Buffer.from(JSON.stringify({
      inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape, parameters: { binary_data_size: i.raw.byteLength } })),
      ...(wanted ? { outputs: wanted.map((name) => ({ name, parameters: { binary_data: true } })) } : {}),
      parameters,
    }))
    const body = Buffer.concat([header, ...inputs.map((i) => i.raw)])
    return encodeRequest(this.inferUrl, 'POST', body, 'application/octet-stream', { 'Inference-Header-Content-Length': String(header.length) })
  }

  async infer(request: Buffer): Promise<InferAnswer> {
    const answer = await this.raw.send(request)
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status} from ${this.inferUrl.href}: ${errorText(answer.body)}`)
    const headerLength = headerValue(answer.head, HEADER_LENGTH)
    const json = JSON.parse(answer.body.toString('utf8', 0, headerLength === undefined ? answer.body.length : Number(headerLength))) as {
      parameters?: { queue_us?: number; compute_us?: number }
    }
    const p = json.parameters
    return {
      ...(p && p.queue_us !== undefined ? { serverTimings: { queueUs: p.queue_us, computeUs: p.compute_us ?? 0 } } : {}),
      ...(answer.queuedUs > 0 ? { clientQueueUs: answer.queuedUs } : {}),
    }
  }

  /**
   * A pipeline's request: these tensors (raw items as BYTES), binary both ways, answering the
   * outputs and what the server says of its timings and, from our own server, its clock.
   */
  async run(inputs: TensorMap, wanted?: string[]): Promise<RunAnswer> {
    const parts = Object.entries(inputs).map(([name, t]) => {
      const datatype = t.type === 'bytes' ? 'BYTES' : ORT_TO_V2[t.type]
      if (!datatype) throw new Error(`input '${name}' of type ${t.type} has no v2 datatype`)
      const raw = t.type === 'bytes' ? encodeBytesElements(t.data as Uint8Array[]) : rawBytes(t.data as TypedArray)
      return { name, datatype, shape: t.dims, raw }
    })
    // `timestamps`: our server then stamps its monotonic clock, for the request/response split.
    const answer = await this.raw.send(this.binaryRequest(parts, { binary_data_output: true, timestamps: true }, wanted))
    if (answer.status !== 200) throw new Error(`HTTP ${answer.status} from ${this.inferUrl.href}: ${errorText(answer.body)}`)
    const headerLength = Number(headerValue(answer.head, HEADER_LENGTH) ?? answer.body.length)
    const json = JSON.parse(answer.body.toString('utf8', 0, headerLength)) as {
      parameters?: { queue_us?: number; compute_us?: number; preprocess_us?: number; received_us?: number; sent_us?: number }
      outputs?: Array<{ name: string; datatype: V2Datatype; shape: number[]; parameters?: { binary_data_size?: number }; data?: unknown }>
    }
    const outputs: TensorMap = {}
    let offset = headerLength
    for (const o of json.outputs ?? []) {
      const size = o.parameters?.binary_data_size
      const data = size === undefined ? fromJson(o.datatype, o.data) : fromRaw(o.datatype, answer.body.subarray(offset, offset + size))
      if (size !== undefined) offset += size
      outputs[o.name] = { type: V2_TO_ORT[o.datatype] as Tensor['type'], dims: o.shape, data: data as Tensor['data'] }
    }
    const p = json.parameters ?? {}
    return {
      outputs,
      ...(p.queue_us !== undefined ? { serverTimings: { queueUs: p.queue_us, computeUs: p.compute_us ?? 0 } } : {}),
      ...(p.received_us !== undefined && p.sent_us !== undefined ? { serverReceivedUs: p.received_us, serverSentUs: p.sent_us } : {}),
      ...(p.preprocess_us !== undefined ? { preprocessUs: p.preprocess_us } : {}),
      ...(answer.queuedUs > 0 ? { clientQueueUs: answer.queuedUs } : {}),
    }
  }

  async getJson<T>(path: string): Promise<{ status: number; body: T }> {
    const res = await fetch(new URL(path, this.baseUrl))
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as T }
  }

  /** Polls /v2/health/ready until 200 or the deadline; gives up when `signal` aborts. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const probe = async () => {
      const { status } = await this.getJson('/v2/health/ready')
      return status === 200 || `HTTP ${status}`
    }
    return waitUntilReady(probe, { timeoutMs, what: this.baseUrl, ...(signal ? { signal } : {}) })
  }

  /**
   * Triton's statistics extension, summed into cumulative counters; undefined for a server without
   * it (the extension is optional in KServe v2: a plain server answers 404 or 501).
   */
  async statistics(): Promise<ServerStatistics | undefined> {
    const { status, body } = await this.getJson<{ model_stats?: TritonModelStatistics[] }>(`/v2/models/${encodeURIComponent(this.modelName)}/stats`)
    if (status === 404 || status === 501 || status === 405) return undefined
    if (status !== 200) throw new Error(`statistics of ${this.modelName}: HTTP ${status}`)
    if (!Array.isArray(body.model_stats)) throw new Error(`statistics of ${this.modelName}: the server answered 200 without a model_stats array (Triton's statistics extension)`)
    return sumStatistics(body.model_stats)
  }

  async close(): Promise<void> {
    this.raw.close()
  }
}

function errorText(body: Buffer): string {
  try {
    return (JSON.parse(body.toString('utf8')) as { error?: string }).error ?? body.toString('utf8')
  } catch {
    return body.toString('utf8').slice(0, 500)
  }
}
