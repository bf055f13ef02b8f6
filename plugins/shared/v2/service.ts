import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

/** The KServe v2 gRPC service (inference.GRPCInferenceService), for servers and clients alike. */
export const KSERVE_PROTO = fileURLToPath(new URL('./kserve_v2.proto', import.meta.url))

/** proto-loader options shared by server and clients: snake_case fields, int64 as JS numbers. */
export const PROTO_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true }

export function loadKserveService(options: protoLoader.Options = PROTO_OPTIONS): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(KSERVE_PROTO, options)
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } }
  return pkg.inference.GRPCInferenceService
}

