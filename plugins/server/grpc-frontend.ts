import * as grpc from '@grpc/grpc-js'
import { BYTES_PER_ELEMENT, elementCount, fromRaw, isV2Datatype, rawBytes, type V2Datatype } from '../shared/v2/datatypes.ts'
import { PROTO_OPTIONS, loadKserveService } from '../shared/v2/service.ts'
import { checkOutputNames } from './http-frontend.ts'
import { decodeInferRequest } from './infer-request-decoding.ts'
import { encodeInferResponse, type InferResponseFields } from './infer-response-encoding.ts'
import { BadRequestError, InferenceServer, SERVER_EXTENSIONS, SERVER_NAME, UnknownModelError } from './inference-server.ts'
import type { InputTensor } from './served-model.ts'

interface InferTensor {
  name: string
  datatype: string
  /** Numbers from our decoder; decimal strings from proto-loader (int64). */
  shape: Array<number | string>
  contents?: Record<string, unknown[]> | null
}

interface ModelInferRequest {
  model_name: string
  model_version: string
  id: string
  inputs: InferTensor[]
  outputs: Array<{ name: string }>
  raw_input_contents: Buffer[]
}

/** KServe v2 over gRPC (inference.GRPCInferenceService), sharing the HTTP front end's models and schedulers. */
export function startGrpcFrontend(server: InferenceServer, options: { host: string; port: number; version: string; maxMessageBytes: number }): Promise<{ grpcServer: grpc.Server; port: number }> {
  // int64 fields as decimal strings: as JS numbers, values past 2^53 would arrive rounded or wrapped.
  const loaded = loadKserveService({ ...PROTO_OPTIONS, longs: String }).service
  // The inference request is read, and its answer written, by our own wire code in the common
  // case (without proto-loader's message objects in between; infer-request-decoding.ts,
  // infer-response-encoding.ts). proto-loader decodes every request ours leaves to it.
  const decodeAny = loaded.ModelInfer!.requestDeserialize
  const service: grpc.ServiceDefinition = {
    ...loaded,
    ModelInfer: { ...loaded.ModelInfer!, requestDeserialize: (bytes: Buffer) => decodeInferRequest(bytes) ?? decodeAny(bytes), responseSerialize: serializeAnswer },
  }
  const grpcServer = new grpc.Server({ 'grpc.max_receive_message_length': options.maxMessageBytes, 'grpc.max_send_message_length': options.maxMessageBytes })
  const unary = <Req, Res>(fn: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> => (call, callback) => {
    // Called directly, not through a resolved promise: two microtask turns fewer per request.
    let response: Res | Promise<Res>
    try {
      response = fn(call.request)
    } catch (error) {
      return callback(grpcError(error))
    }
    if (response instanceof Promise) response.then((r) => callback(null, r), (error: unknown) => callback(grpcError(error)))
    else callback(null, response)
  }
  grpcServer.addService(service, {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: server.ready })),
    ModelReady: unary((req: { name: string; version: string }) => {
      server.model(req.name, req.version)
      return { ready: server.ready }
    }),
    ServerMetadata: unary(() => ({ name: SERVER_NAME, version: options.version, extensions: SERVER_EXTENSIONS })),
    ModelMetadata: unary((req: { name: string; version: string }) => {
      const model = server.model(req.name, req.version)
      return { name: model.name, versions: [model.version], platform: 'onnxruntime_onnx', inputs: model.inputs, outputs: model.outputs }
    }),
    ModelStatistics: unary((req: { name: string; version: string }) => ({
      model_stats: (req.name ? [req.name] : server.modelNames()).map((m) => server.model(m, req.name ? req.version : undefined).stats.snapshot()),
    })),
    ModelInfer: unary(async (req: ModelInferRequest) => {
      if (req.outputs.length) checkOutputNames(req.outputs, server.model(req.model_name, req.model_version).outputs)
      const result = await server.infer(req.model_name, req.model_version, grpcInputs(req))
      const outputs = req.outputs.length ? result.outputs.filter((o) => req.outputs.some((r) => r.name === o.name)) : result.outputs
      const answer: InferResponseFields = {
        model_name: req.model_name, model_version: '1', id: req.id,
        parameters: {
          queue_us: { int64_param: Math.round(result.queueNs / 1000) },
          compute_us: { int64_param: Math.round(result.computeNs / 1000) },
          batch_rows: { int64_param: result.batchRows },
        },
        outputs: outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape })),
        raw_output_contents: outputs.map((o) => {
          const raw = rawBytes(o.data)
          return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
        }),
      }
      return answer
    }),
  })
  // A failed bind is reported by the caller as one line; grpc-js would also log it on its own.
  grpc.setLogVerbosity(grpc.logVerbosity.NONE)
  return new Promise((resolve, reject) => {
    // An IPv6 literal needs brackets in a gRPC target (`[::1]:8001`).
    const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host
    grpcServer.bindAsync(`${host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) reject(error)
      else resolve({ grpcServer, port })
    })
  })
}

/** grpc-js answers INTERNAL to a serializer's error and logs nothing: the cause is logged here. */
function serializeAnswer(answer: InferResponseFields): Buffer {
  try {
    return encodeInferResponse(answer)
  } catch (error) {
    process.stderr.write(`inferbench serve: gRPC: ${(error as Error).message}\n`)
    throw error
  }
}

function grpcError(error: unknown): Partial<grpc.ServiceError> {
  return { code: statusOf(error), details: publicMessage(error) }
}

/** What the client may read: our own protocol errors in full, an unexpected fault only by name. */
function publicMessage(error: unknown): string {
  if (error instanceof UnknownModelError || error instanceof BadRequestError || (error as Error).message?.startsWith('inference failed:')) return (error as Error).message
  process.stderr.write(`inferbench serve: gRPC: ${(error as Error).stack ?? String(error)}\n`)
  return 'internal server error (the server logged the cause)'
}

function statusOf(error: unknown): grpc.status {
  if (error instanceof UnknownModelError) return grpc.status.NOT_FOUND
  if (error instanceof BadRequestError) return grpc.status.INVALID_ARGUMENT
  return grpc.status.INTERNAL
}

const CONTENT_FIELD: Partial<Record<V2Datatype, string>> = {
  BOOL: 'bool_contents', INT8: 'int_contents', INT16: 'int_contents', INT32: 'int_contents', INT64: 'int64_contents',
  UINT8: 'uint_contents', UINT16: 'uint_contents', UINT32: 'uint_contents', UINT64: 'uint64_contents', FP32: 'fp32_contents', FP64: 'fp64_contents',
}

/** Inputs from raw_input_contents (one per input, in order) or from typed `contents`. */
function grpcInputs(req: ModelInferRequest): InputTensor[] {
  if (req.inputs.length === 0) throw new BadRequestError('the request has no inputs')
  const raw = req.raw_input_contents
  if (raw.length > 0 && raw.length !== req.inputs.length) {
    throw new BadRequestError(`raw_input_contents has ${raw.length} entries for ${req.inputs.length} inputs; send one per input, or none`)
  }
  const seen = new Set<string>()
  return req.inputs.map((input, i) => {
    const where = `inputs[${i}] ('${input.name}')`
    if (seen.has(input.name)) throw new BadRequestError(`${where}: input '${input.name}' is given twice`)
    seen.add(input.name)
    if (!isV2Datatype(input.datatype)) throw new BadRequestError(`${where}: unsupported datatype '${input.datatype}'`)
    const shape = input.shape.map(Number)
    // As the HTTP front end: a negative or inexact dimension is refused by name, not met later as
    // a confusing byte count.
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new BadRequestError(`${where}: shape [${input.shape.join(', ')}] must hold non-negative integers below 2^53`)
    if (raw.length > 0) {
      const bytes = raw[i]!
      const expected = elementCount(shape) * BYTES_PER_ELEMENT[input.datatype]
      if (bytes.length !== expected) throw new BadRequestError(`${where}: ${bytes.length} raw bytes for shape [${shape}] of ${input.datatype}, expected ${expected}`)
      return { name: input.name, datatype: input.datatype, shape, data: fromRaw(input.datatype, bytes) }
    }
    const field = CONTENT_FIELD[input.datatype]
    const values = field ? input.contents?.[field] : undefined
    if (!field || !values) throw new BadRequestError(`${where}: no contents; ${input.datatype} must be sent ${field ? `in contents.${field} or ` : ''}as raw_input_contents`)
    const data = input.datatype === 'INT64' ? BigInt64Array.from(values, (v) => exactInt64(v, -(2n ** 63n), 2n ** 63n - 1n, where))
      : input.datatype === 'UINT64' ? BigUint64Array.from(values, (v) => exactInt64(v, 0n, 2n ** 64n - 1n, where))
      : input.datatype === 'FP32' ? Float32Array.from(values as number[])
      : input.datatype === 'FP64' ? Float64Array.from(values as number[])
      : input.datatype === 'BOOL' ? Uint8Array.from(values, (v) => (v ? 1 : 0))
      : fromRaw(input.datatype, new Uint8Array(typedBytes(input.datatype, values as number[])))
    return { name: input.name, datatype: input.datatype, shape, data }
  })
}

/** An int64 field (a decimal string from the proto loader) as a BigInt, refused when out of range. */
function exactInt64(value: unknown, min: bigint, max: bigint, where: string): bigint {
  const n = BigInt(String(value))
  if (n < min || n > max) throw new BadRequestError(`${where}: ${String(value)} is out of range (${min} to ${max})`)
  return n
}

function typedBytes(datatype: V2Datatype, values: number[]): ArrayBuffer {
  const Ctor = { INT8: Int8Array, INT16: Int16Array, INT32: Int32Array, UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array }[datatype as 'INT8']
  return Ctor.from(values).buffer as ArrayBuffer
}
