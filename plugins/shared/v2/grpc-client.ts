import * as grpc from '@grpc/grpc-js'
import type { InferAnswer, ServerStatistics } from '../../../core/plugin-api.ts'
import { loadKserveService } from './service.ts'
import { sumStatistics, type TritonModelStatistics } from './statistics.ts'
import type { V2Input } from './v2-inputs.ts'
import { waitUntilReady } from '../wait-ready.ts'

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void
type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<unknown>) => void

interface InferResponse {
  parameters?: Record<string, { int64_param?: number }>
}

/**
 * A KServe v2 gRPC client. ModelInfer requests are serialised once (raw_input_contents) and the
 * same bytes are sent every time, so the client's cost per request is the call, not encoding.
 */
export class KserveGrpcClient {
  private readonly client: grpc.Client & Record<string, Unary>

  constructor(readonly address: string, readonly modelName: string, maxMessageBytes = 256 * 1024 * 1024) {
    const service = loadKserveService().service
    const preEncoded = {
      ...service,
      ModelInfer: { ...service.ModelInfer!, requestSerialize: (buffer: Buffer) => buffer },
    }
    const Client = grpc.makeGenericClientConstructor(preEncoded, 'GRPCInferenceService')
    this.client = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes,
    }) as unknown as grpc.Client & Record<string, Unary>
    this.serializeInfer = service.ModelInfer!.requestSerialize as (value: object) => Buffer
  }

  private readonly serializeInfer: (value: object) => Buffer

  prepare(inputs: V2Input[]): Buffer {
    return this.serializeInfer({
      model_name: this.modelName,
      inputs: inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: i.shape })),
      raw_input_contents: inputs.map((i) => Buffer.from(i.raw.buffer, i.raw.byteOffset, i.raw.byteLength)),
    })
  }

  infer(request: Buffer): Promise<InferAnswer> {
    return this.call<InferResponse>('ModelInfer', request).then((response) => {
      const p = response.parameters
      return p?.queue_us ? { serverTimings: { queueUs: Number(p.queue_us.int64_param ?? 0), computeUs: Number(p.compute_us?.int64_param ?? 0) } } : {}
    })
  }

  /**
   * Triton's statistics extension over gRPC, summed into cumulative counters; undefined for a
   * server without it (UNIMPLEMENTED: the extension is optional in KServe v2).
   */
  statistics(): Promise<ServerStatistics | undefined> {
    return new Promise((resolve, reject) => {
      this.client.ModelStatistics!({ name: this.modelName, version: '' }, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (error, value) => {
        if (error?.code === grpc.status.UNIMPLEMENTED) return resolve(undefined)
        if (error) return reject(new Error(`gRPC ModelStatistics to ${this.address}: ${grpc.status[error.code]} ${error.details}`))
        resolve(sumStatistics((value as { model_stats?: TritonModelStatistics[] }).model_stats ?? []))
      })
    })
  }

  call<T>(method: string, request: unknown, deadlineMs = 60_000): Promise<T> {
    return new Promise((resolve, reject) => {
      this.client[method]!(request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, value) => {
        if (error) reject(new Error(`gRPC ${method} to ${this.address}: ${grpc.status[error.code]} ${error.details}`))
        else resolve(value as T)
      })
    })
  }

  /** Asks ServerReady until it says ready or the deadline; gives up when `signal` aborts. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const probe = async () => (await this.call<{ ready: boolean }>('ServerReady', {}, 1000)).ready || 'not ready'
    return waitUntilReady(probe, { timeoutMs, what: this.address, ...(signal ? { signal } : {}) })
  }

  close(): void {
    this.client.close()
  }
}
