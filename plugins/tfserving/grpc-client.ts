import * as grpc from '@grpc/grpc-js'
import { InferbenchError, abortable } from '../../core/plugin-api.ts'
import type { SynthesisedInput } from '../shared/inputs/synthesize.ts'
import { rawBytes } from '../shared/v2/datatypes.ts'
import { TF_DTYPE, loadPredictionService } from './proto.ts'

type Unary = (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (e: grpc.ServiceError | null, v?: unknown) => void) => void

/** tensorflow.serving.PredictionService/Predict with tensor_content (raw little-endian), serialised once. */
export class TfServingGrpcClient {
  private readonly client: grpc.Client & { Predict: Unary }
  private readonly serialize: (value: object) => Buffer

  constructor(readonly address: string, readonly modelName: string, private readonly version: number | undefined) {
    const service = loadPredictionService().service
    this.serialize = service.Predict!.requestSerialize as (value: object) => Buffer
    const Client = grpc.makeGenericClientConstructor({ ...service, Predict: { ...service.Predict!, requestSerialize: (b: Buffer) => b } }, 'PredictionService')
    this.client = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': 256 << 20, 'grpc.max_send_message_length': 256 << 20,
    }) as unknown as grpc.Client & { Predict: Unary }
  }

  prepare(inputs: SynthesisedInput[], signatureName: string): Buffer {
    return this.serialize({
      model_spec: { name: this.modelName, signature_name: signatureName, ...(this.version !== undefined ? { version: { value: this.version } } : {}) },
      inputs: Object.fromEntries(inputs.map((i) => {
        const dtype = TF_DTYPE[i.type]
        if (!dtype) throw new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `input '${i.name}' of type ${i.type} has no TensorFlow dtype`)
        const raw = rawBytes(i.data)
        return [i.name, { dtype, tensor_shape: { dim: i.shape.map((size) => ({ size })) }, tensor_content: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength) }]
      })),
    })
  }

  predict(request: Buffer, deadlineMs = 60_000): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.client.Predict(request, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (error, value) => {
        if (error) reject(new Error(`gRPC Predict to ${this.address}: ${grpc.status[error.code]} ${error.details}`))
        else resolve(value)
      })
    })
  }

  /** Waits until the channel connects (TF Serving has no readiness RPC in the Predict API). */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(new Error(`${this.address}: ${error.message}`)) : resolve()))
    })
    return signal ? abortable(ready, signal) : ready
  }

  close(): void {
    this.client.close()
  }
}
