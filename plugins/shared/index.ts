/**
 * The helpers the built-in plugins are written with, for any plugin to use: input synthesis from
 * an ONNX model, the KServe v2 protocol (datatypes, HTTP and gRPC clients with readiness and
 * statistics, a ready-made v2 backend), the keep-alive HTTP/1.1 load client, and worker-thread
 * instance pools. Exported with the contract as `inferbench/plugin`.
 */
export { onnxInputs, onnxSymbolicDims } from './inputs/onnx-inputs.ts'
export { synthesizeInputs, type InputDescriptor, type InputArray, type SynthesisedInput, type SynthesisOptions } from './inputs/synthesize.ts'
export { RawHttpClient, encodeRequest, headerValue, parseResponse, type RawResponse } from './http/raw-client.ts'
export {
  V2_TO_ORT, ORT_TO_V2, BYTES_PER_ELEMENT, isV2Datatype, elementCount, fromRaw, fromJson, toJson, rawBytes, type V2Datatype,
} from './v2/datatypes.ts'
export { KSERVE_PROTO, PROTO_OPTIONS, loadKserveService } from './v2/service.ts'
export { KserveHttpClient } from './v2/http-client.ts'
export { KserveGrpcClient } from './v2/grpc-client.ts'
export { sumStatistics, type TritonModelStatistics } from './v2/statistics.ts'
export { createV2Backend, type V2Target } from './v2/v2-backend.ts'
export { toV2Inputs, type V2Input } from './v2/v2-inputs.ts'
export { waitUntilReady } from './wait-ready.ts'
export { exchange, startWorkers, closeWorkers, watchWorkers, InstanceQueue, WorkerGoneError } from './workers/worker-exchange.ts'
