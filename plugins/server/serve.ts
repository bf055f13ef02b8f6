import type http from 'node:http'
import type * as grpc from '@grpc/grpc-js'
import type { BatchingOptions } from './scheduler.ts'
import { startGrpcFrontend } from './grpc-frontend.ts'
import { httpPort, startHttpFrontend } from './http-frontend.ts'
import { InferenceServer } from './inference-server.ts'

export interface ServeOptions {
  models: Array<{ path: string; name?: string }>
  host: string
  /** 0 picks a free port; undefined turns the front end off. */
  httpPort?: number
  grpcPort?: number
  instances: number
  batching?: BatchingOptions
  intraOpThreads?: number
  maxBodyBytes: number
  version: string
}

export interface RunningServer {
  server: InferenceServer
  httpPort?: number
  grpcPort?: number
  /** Stops accepting, answers every request in flight, then releases the models. */
  stop(): Promise<void>
}

/** Starts `inferbench serve`: the models, then the HTTP and gRPC front ends. */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const server = await InferenceServer.start({
    models: options.models, instances: options.instances,
    ...(options.batching ? { batching: options.batching } : {}),
    ...(options.intraOpThreads !== undefined ? { sessionOptions: { intraOpNumThreads: options.intraOpThreads } } : {}),
  })
  let httpServer: http.Server | undefined
  let grpcServer: grpc.Server | undefined
  let grpcPort: number | undefined
  if (options.httpPort !== undefined) {
    httpServer = await startHttpFrontend(server, { host: options.host, port: options.httpPort, maxBodyBytes: options.maxBodyBytes, version: options.version })
  }
  if (options.grpcPort !== undefined) {
    const started = await startGrpcFrontend(server, { host: options.host, port: options.grpcPort, version: options.version, maxMessageBytes: options.maxBodyBytes })
    grpcServer = started.grpcServer
    grpcPort = started.port
  }
  return {
    server,
    ...(httpServer ? { httpPort: httpPort(httpServer) } : {}),
    ...(grpcPort !== undefined ? { grpcPort } : {}),
    async stop() {
      // Stop accepting, answer everything in flight, then drop the (now idle) keep-alive connections.
      const httpClosed = httpServer ? new Promise<void>((resolve) => httpServer!.close(() => resolve())) : Promise.resolve()
      const grpcClosed = grpcServer ? new Promise<void>((resolve) => grpcServer!.tryShutdown(() => resolve())) : Promise.resolve()
      await server.drain()
      httpServer?.closeAllConnections()
      await Promise.all([httpClosed, grpcClosed])
      await server.close()
    },
  }
}
