import { readFileSync, statSync } from 'node:fs'
import { basename, extname } from 'node:path'
import type * as ort from 'onnxruntime-node'
import { InferbenchError } from '../../core/errors.ts'
import { ServerMetrics } from './metrics.ts'
import { Scheduler, type BatchingOptions, type InferResult } from './scheduler.ts'
import { BadRequestError, ServedModel, type InputTensor, type InstanceThread } from './served-model.ts'

export const SERVER_NAME = 'inferbench'
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'statistics', 'model_repository_metadata']

/** A request for a model that is not served: 404 over HTTP, NOT_FOUND over gRPC. */
export class UnknownModelError extends Error {
  override name = 'UnknownModelError'
  constructor(model: string, served: string[]) {
    super(`unknown model '${model}'; served: ${served.join(', ') || 'none'}`)
  }
}

/** `auto`: one instance runs on the main thread (no hop per request), several in worker threads. */
export function instanceThread(options: { instances: number; instanceThread?: InstanceThread | 'auto' }): InstanceThread {
  const chosen = options.instanceThread ?? 'auto'
  return chosen === 'auto' ? (options.instances === 1 ? 'main' : 'worker') : chosen
}

export interface ServerOptions {
  models: Array<{ path: string; name?: string }>
  instances: number
  /** Where instances run; `auto` (the default): one instance on the main thread, several in workers. */
  instanceThread?: InstanceThread | 'auto'
  batching?: BatchingOptions
  sessionOptions?: ort.InferenceSession.SessionOptions
}

/**
 * What the HTTP and gRPC front ends share: the served models, their schedulers, statistics,
 * metrics, readiness and the count of requests in flight (for draining on SIGTERM).
 */
export class InferenceServer {
  readonly metrics = new ServerMetrics(() => [...this.models.values()].map((m) => m.model.stats))
  private readonly models = new Map<string, { model: ServedModel; scheduler: Scheduler }>()
  private inFlight = 0
  private idleWaiters: Array<() => void> = []
  ready = false

  /** Loads every model; if one fails, the ones loaded so far are released (no thread left running). */
  static async start(options: ServerOptions): Promise<InferenceServer> {
    const server = new InferenceServer()
    try {
      for (const spec of options.models) {
        const name = spec.name ?? basename(spec.path, extname(spec.path))
        if (server.models.has(name)) {
          throw new InferbenchError('INFERBENCH_USAGE', `two models are named '${name}'; name one with --model ${spec.path}:<name>`)
        }
        checkModelFile(spec.path)
        let model: ServedModel
        try {
          model = await ServedModel.load(spec.path, name, options.instances, options.sessionOptions, instanceThread(options))
        } catch (error) {
          // Decoded only when onnxruntime refused it: on success that would double the load time
          // (and the reported cold start) of a large model. The decode names a bad file in one line.
          // Both modules are loaded only here: held unused, they slowed `serve`'s start-up
          // (docs/overhead.md, "`serve` loads only what it uses").
          const { decodeOnnxModel } = await import('../models/onnx-decode.ts')
          decodeOnnxModel(readFileSync(spec.path), spec.path)
          const { providerHint } = await import('../onnxruntime/session-options.ts')
          throw new InferbenchError('INFERBENCH_MODEL_UNLOADABLE', `onnxruntime could not load ${(error as Error).message}${providerHint((error as Error).message)}`, { cause: error })
        }
        server.models.set(model.name, { model, scheduler: new Scheduler(model, options.batching) })
      }
    } catch (error) {
      await server.close()
      throw error
    }
    server.ready = true
    return server
  }

  modelNames(): string[] {
    return [...this.models.keys()]
  }

  /** The model, or UnknownModelError; a version other than '1' is unknown too. */
  model(name: string, version?: string): ServedModel {
    return this.entry(name, version).model
  }

  private entry(name: string, version?: string): { model: ServedModel; scheduler: Scheduler } {
    const entry = this.models.get(name)
    if (!entry) throw new UnknownModelError(name, this.modelNames())
    if (version !== undefined && version !== '' && version !== entry.model.version) {
      throw new UnknownModelError(`${name}' version '${version}`, [`${name}: version ${entry.model.version} only`])
    }
    return entry
  }

  async infer(name: string, version: string | undefined, tensors: InputTensor[]): Promise<InferResult> {
    const { model, scheduler } = this.entry(name, version)
    const started = process.hrtime.bigint()
    this.inFlight++
    try {
      const rows = model.validate(tensors)
      const result = await scheduler.infer(tensors, rows)
      model.stats.request(true, Number(process.hrtime.bigint() - started), result.queueNs)
      return result
    } catch (error) {
      model.stats.request(false, Number(process.hrtime.bigint() - started), 0)
      throw error instanceof BadRequestError || error instanceof UnknownModelError ? error : new Error(`inference failed: ${(error as Error).message}`, { cause: error })
    } finally {
      this.inFlight--
      if (this.inFlight === 0) for (const done of this.idleWaiters.splice(0)) done()
    }
  }

  /**
   * Stops reporting ready, sends queued batches without waiting for them to fill, and resolves
   * once every request in flight has been answered.
   */
  async drain(): Promise<void> {
    this.ready = false
    await Promise.all([...this.models.values()].map((m) => m.scheduler.flush()))
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
  }

  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((m) => m.model.release()))
  }
}

export { BadRequestError }

/** A model path that names no file, or a directory, is refused before any thread starts. */
function checkModelFile(path: string): void {
  let stats: ReturnType<typeof statSync>
  try {
    stats = statSync(path)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `no model file ${path}`, { cause: error })
  }
  if (stats.isDirectory()) throw new InferbenchError('INFERBENCH_MODEL_INVALID', `cannot read model file ${path}: it is a directory`)
  if (stats.size === 0) throw new InferbenchError('INFERBENCH_MODEL_INVALID', `${path} is not an ONNX model: the file is empty (0 bytes)`)
}
