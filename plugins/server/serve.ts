import type * as grpc from '@grpc/grpc-js'
import { withTimeout } from '../../core/abort.ts'
import { InferbenchError } from '../../core/errors.ts'
import type { BatchingOptions } from './scheduler.ts'
import type { InstanceThread } from './served-model.ts'
import { startGrpcFrontend } from './grpc-frontend.ts'
import { startHttpFrontend, type HttpFrontend, type RawPreprocess } from './http-frontend.ts'
import { InferenceServer } from './inference-server.ts'

export interface ServeOptions {
  models: Array<{ path: string; name?: string }>
  host: string
  /** 0 picks a free port; undefined turns the front end off. */
  httpPort?: number
  grpcPort?: number
  instances: number
  instanceThread?: InstanceThread | 'auto'
  batching?: BatchingOptions
  intraOpThreads?: number
  /** onnxruntime execution providers in order of preference ('cuda', 'cpu'); default onnxruntime's (cpu). */
  executionProviders?: string[]
  maxBodyBytes: number
  version: string
  /**
   * Pre-processing of raw requests (a bench's pipeline with placement 'server'): built for the
   * first model's inputs, it turns a request's BYTES input into that model's tensors.
   */
  preprocess?: (model: { inputs: string[]; outputs: string[] }) => Promise<RawPreprocess>
}

export interface RunningServer {
  server: InferenceServer
  httpPort?: number
  grpcPort?: number
  /**
   * Stops accepting (`onRefusing` says when new connections are refused), answers every request
   * already received (503 for any still unanswered after `drainTimeoutMs`), then releases the models.
   */
  stop(drainTimeoutMs?: number, onRefusing?: () => void): Promise<void>
}

/**
 * Starts `inferbench serve`: the models, then the HTTP and gRPC front ends. If any part fails to
 * start, everything started before it is closed and the error says which part and why.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const server = await InferenceServer.start({
    models: options.models, instances: options.instances, ...(options.instanceThread ? { instanceThread: options.instanceThread } : {}),
    ...(options.batching ? { batching: options.batching } : {}),
    ...(options.intraOpThreads !== undefined || options.executionProviders ? {
      sessionOptions: {
        ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
        ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
      },
    } : {}),
  })
  let http: HttpFrontend | undefined
  let grpcServer: grpc.Server | undefined
  let grpcPort: number | undefined
  try {
    if (options.httpPort !== undefined) {
      const first = server.model(server.modelNames()[0]!)
      const preprocess = options.preprocess ? await options.preprocess({ inputs: first.inputs.map((i) => i.name), outputs: first.outputs.map((o) => o.name) }) : undefined
      http = await startHttpFrontend(server, { host: options.host, port: options.httpPort, maxBodyBytes: options.maxBodyBytes, version: options.version, ...(preprocess ? { preprocess } : {}) })
        .catch((error: unknown) => { throw listenError(error, '--http-port', options.host, options.httpPort!) })
    }
    if (options.grpcPort !== undefined) {
      const started = await startGrpcFrontend(server, { host: options.host, port: options.grpcPort, version: options.version, maxMessageBytes: options.maxBodyBytes })
        .catch((error: unknown) => { throw listenError(error, '--grpc-port', options.host, options.grpcPort!) })
      grpcServer = started.grpcServer
      grpcPort = started.port
    }
  } catch (error) {
    await http?.drain(0)
    grpcServer?.forceShutdown()
    await server.close()
    throw error
  }
  return {
    server,
    ...(http ? { httpPort: http.port } : {}),
    ...(grpcPort !== undefined ? { grpcPort } : {}),
    async stop(drainTimeoutMs = DEFAULT_DRAIN_TIMEOUT_MS, onRefusing?: () => void) {
      // New connections are refused from here on; every request already received is answered
      // (or, past the drain timeout, told 503), then the models are released.
      const grpcClosed = grpcServer ? drainGrpc(grpcServer, drainTimeoutMs) : Promise.resolve()
      const batchesSent = withTimeout(server.drain(), drainTimeoutMs, () => undefined)
      const httpClosed = http ? http.drain(drainTimeoutMs, onRefusing) : (onRefusing?.(), Promise.resolve())
      await Promise.all([httpClosed, grpcClosed, batchesSent])
      await server.close()
    },
  }
}

export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000

function drainGrpc(grpcServer: grpc.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { grpcServer.forceShutdown(); resolve() }, timeoutMs)
    grpcServer.tryShutdown(() => { clearTimeout(timer); resolve() })
  })
}

/** A listen failure as one line naming the flag, the cause and the fix. */
function listenError(error: unknown, flag: string, host: string, port: number): InferbenchError {
  const message = (error as Error).message ?? String(error)
  const code = (error as NodeJS.ErrnoException).code ?? /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL|ENOTFOUND)\b/.exec(message)?.[1]
  const why = code === 'EADDRINUSE' ? `${host}:${port} is already in use; stop what holds it, or pick another port (${flag} 0 takes any free port)`
    : code === 'EACCES' ? `no permission to listen on ${host}:${port} (ports below 1024 need privileges); pick a port of 1024 or more`
    : `cannot listen on ${host}:${port}: ${message}`
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new InferbenchError('INFERBENCH_SERVE_FAILED', `--host: ${host} is not an address of this machine (an IPv6 one is written without brackets, e.g. ::1)`, { cause: error })
  }
  return new InferbenchError('INFERBENCH_SERVE_FAILED', `${flag}: ${why}`, { cause: error })
}
