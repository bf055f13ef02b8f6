import type * as ort from 'onnxruntime-node'
import { ServerMetrics } from './metrics.ts'
import { Scheduler, type BatchingOptions, type InferResult } from './scheduler.ts'
import { BadRequestError, ServedModel, type InputTensor } from './served-model.ts'

export const SERVER_NAME = 'inferbench'
export const SERVER_EXTENSIONS = ['binary_tensor_data', 'statistics', 'model_repository_metadata']

/** A request for a model that is not served: 404 over HTTP, NOT_FOUND over gRPC. */
export class UnknownModelError extends Error {
  override name = 'UnknownModelError'
  constructor(model: string, served: string[]) {
    super(`unknown model '${model}'; served: ${served.join(', ') || 'none'}`)
  }
}

export interface ServerOptions {
  models: Array<{ path: string; name?: string }>
  instances: number
  batching?: BatchingOptions
  sessionOptions?: ort.InferenceSession.SessionOptions
}

/**
 * What the HTTP and gRPC front ends share: the served models, their schedulers, statistics,
 * metrics, readiness and the count of requests in flight (for draining on SIGTERM).
 */
export class InferenceServer {
  readonly metrics = new ServerMetrics()
  private readonly models = new Map<string, { model: ServedModel; scheduler: Scheduler }>()
  private inFlight = 0
  private idleWaiters: Array<() => void> = []
  ready = false

  static async start(options: ServerOptions): Promise<InferenceServer> {
    const server = new InferenceServer()
    for (const spec of options.models) {
      const model = await ServedModel.load(spec.path, spec.name, options.instances, options.sessionOptions)
      if (server.models.has(model.name)) throw new Error(`two models are named '${model.name}'; name one with --model ${spec.path}:<name>`)
      server.models.set(model.name, { model, scheduler: new Scheduler(model, options.batching) })
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
    if (!entry || (version !== undefined && version !== '' && version !== entry.model.version)) {
      throw new UnknownModelError(version ? `${name}/versions/${version}` : name, this.modelNames())
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
      this.metrics.succeeded(model.name, rows, result.queueNs, result.computeNs, result.batchRows)
      return result
    } catch (error) {
      model.stats.request(false, Number(process.hrtime.bigint() - started), 0)
      this.metrics.failed(model.name)
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
