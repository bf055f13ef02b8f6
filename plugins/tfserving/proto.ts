import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url))

/** tensorflow.serving.PredictionService, loaded from our reduced .proto files. */
export function loadPredictionService(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync('prediction_service.proto', {
    includeDirs: [PROTO_DIR], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
  })
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { tensorflow: { serving: { PredictionService: grpc.ServiceClientConstructor } } }
  return pkg.tensorflow.serving.PredictionService
}

/** onnxruntime type names → TensorFlow DataType names. */
export const TF_DTYPE: Record<string, string> = {
  float32: 'DT_FLOAT', float64: 'DT_DOUBLE', int32: 'DT_INT32', uint8: 'DT_UINT8', int64: 'DT_INT64', bool: 'DT_BOOL', float16: 'DT_HALF',
}

export const TF_TO_ORT: Record<string, string> = Object.fromEntries(Object.entries(TF_DTYPE).map(([k, v]) => [v, k]))
