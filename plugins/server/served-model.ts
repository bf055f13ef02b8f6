import { basename, extname } from 'node:path'
import { Worker } from 'node:worker_threads'
import type * as ort from 'onnxruntime-node'
import { ORT_TO_V2, elementCount, type V2Datatype } from '../shared/v2/datatypes.ts'
import { InstanceQueue, WorkerGoneError, closeWorkers, exchange, startWorkers } from '../shared/workers/worker-exchange.ts'
import { StatisticsRecorder } from './statistics.ts'

export interface TensorMetadata {
  name: string
  datatype: V2Datatype
  /** -1 for a dynamic dimension. */
  shape: number[]
}

export interface InputTensor {
  name: string
  datatype: V2Datatype
  shape: number[]
  data: ort.Tensor['data']
}

export interface OutputTensor {
  name: string
  datatype: V2Datatype
  shape: number[]
  data: ort.Tensor['data']
}

/** A request error the protocol reports as a bad request (HTTP 400, gRPC INVALID_ARGUMENT). */
export class BadRequestError extends Error {
  override name = 'BadRequestError'
}

/**
 * onnxruntime refused to run on a request that matched the model's metadata: its values are at
 * fault (an id past the vocabulary, inputs whose shapes cannot broadcast). A bad request, as
 * Triton reports onnxruntime's errors; a crashed instance is a server fault instead.
 */
export class ModelRunError extends BadRequestError {
  override name = 'ModelRunError'
  constructor(detail: string) {
    super(`the model could not run on this input: ${detail}`)
  }
}

/**
 * Where a model's instances run. `worker`: each session in its own thread, so the event loop
 * accepts, parses and times requests while models compute (needed for several instances).
 * `main`: one session on the server's own thread, as the simplest server does; no thread hop
 * per request (measured in docs/overhead.md), but the event loop waits while the model runs.
 */
export type InstanceThread = 'main' | 'worker'

/** The session of a `main`-thread instance. */
type MainInstance = ort.InferenceSession

/**
 * One served model: N onnxruntime sessions (instances), each in a worker thread or one on the
 * main thread, its v2 metadata, request validation and statistics. Scheduling (direct or
 * dynamic batching) is done by the scheduler that owns it.
 */
export class ServedModel {
  readonly version = '1'
  readonly stats: StatisticsRecorder
  /** Worker instances; the main-thread session takes requests directly (see canTakeAnother). */
  private readonly queue: InstanceQueue<Worker>
  private readonly ortTypes: Map<string, ort.Tensor.Type>

  private constructor(
    readonly name: string,
    readonly path: string,
    private readonly workers: Worker[],
    private readonly mainInstance: MainInstance | undefined,
    readonly inputs: TensorMetadata[],
    readonly outputs: TensorMetadata[],
    ortTypes: Array<[string, ort.Tensor.Type]>,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
  ) {
    this.queue = new InstanceQueue(workers)
    this.stats = new StatisticsRecorder(name, this.version)
    this.ortTypes = new Map(ortTypes)
  }

  static async load(path: string, name: string | undefined, instances: number, options: ort.InferenceSession.SessionOptions = {}, thread: InstanceThread = 'worker'): Promise<ServedModel> {
    if (thread === 'main' && instances !== 1) throw new Error(`${path}: ${instances} instances cannot share the main thread; run them in worker threads`)
    const main = thread === 'main' ? await loadOrt().then((o) => o.InferenceSession.create(path, options)) : undefined
    const started = main ? [] : await startWorkers(instances, () => startInstance(path, options))
    const { inputs, outputs } = main ? { inputs: main.inputMetadata.map(describeMetadata), outputs: main.outputMetadata.map(describeMetadata) } : started[0]!.metadata
    const meta = (m: WorkerMetadata): TensorMetadata => {
      if (!m.isTensor) throw new Error(`${path}: '${m.name}' is not a tensor; only tensor inputs and outputs can be served`)
      const datatype = ORT_TO_V2[m.type!]
      if (!datatype) throw new Error(`${path}: '${m.name}' has type ${m.type}, which the v2 protocol server does not serve`)
      return { name: m.name, datatype, shape: m.shape!.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) }
    }
    try {
      return new ServedModel(name ?? basename(path, extname(path)), path, started.map((s) => s.worker), main, inputs.map(meta), outputs.map(meta),
        inputs.map((m) => [m.name, m.type as ort.Tensor.Type]), options)
    } catch (error) {
      await Promise.all(started.map((s) => s.worker.terminate()))
      await main?.release()
      throw error
    }
  }

  /** True when every input and output has a dynamic first dimension: requests can be merged along it. */
  get batchable(): boolean {
    return [...this.inputs, ...this.outputs].every((t) => t.shape[0] === -1)
  }

  /** Checks a request's tensors against the metadata; returns the batch (rows) it carries. */
  validate(tensors: InputTensor[]): number {
    for (const t of tensors) {
      if (!this.inputs.some((i) => i.name === t.name)) {
        throw new BadRequestError(`unexpected input '${t.name}' for model '${this.name}'; inputs: ${this.inputs.map((i) => i.name).join(', ')}`)
      }
    }
    let rows = -1
    for (const meta of this.inputs) {
      const t = tensors.find((given) => given.name === meta.name)
      if (!t) throw new BadRequestError(`missing input '${meta.name}' for model '${this.name}'`)
      if (t.datatype !== meta.datatype) {
        throw new BadRequestError(`input '${meta.name}': datatype ${t.datatype} does not match the model's ${meta.datatype}`)
      }
      const fits = t.shape.length === meta.shape.length && meta.shape.every((d, i) => d === -1 || d === t.shape[i]) && t.shape.every((d) => Number.isInteger(d) && d >= 0)
      if (!fits) {
        throw new BadRequestError(`input '${meta.name}': shape [${t.shape.join(',')}] does not match the model's [${meta.shape.join(',')}] (-1 is dynamic)`)
      }
      const expected = elementCount(t.shape)
      if (t.data.length !== expected) {
        throw new BadRequestError(`input '${meta.name}': ${t.data.length} values for shape [${t.shape.join(',')}], expected ${expected}`)
      }
      if (rows === -1) rows = t.shape[0] ?? 1
      else if (this.batchable && t.shape[0] !== rows) throw new BadRequestError(`inputs disagree on the batch dimension (${rows} vs ${t.shape[0]} for '${meta.name}')`)
    }
    return rows
  }

  /**
   * Runs the tensors on an idle instance, waiting for one if all are busy. The hand-over to the
   * worker and back is reported apart from inference (`transferNs`), as Triton reports input and
   * output copies apart from compute.
   */
  run(tensors: InputTensor[]): Promise<InstanceRun> {
    return this.mainInstance ? this.runOnMainThread(this.mainInstance, tensors) : this.runOnWorker(tensors)
  }

  private async runOnWorker(tensors: InputTensor[]): Promise<InstanceRun> {
    const worker = await this.queue.acquire()
    const start = process.hrtime.bigint()
    let gone = false
    try {
      const reply = await this.runInWorker(worker, tensors)
      if ('error' in reply) throw new ModelRunError(reply.error)
      const roundTripNs = Number(process.hrtime.bigint() - start)
      const byName = new Map(reply.outputs.map((o) => [o.name, o]))
      const outputs = this.outputs.map((meta) => {
        const out = byName.get(meta.name)!
        return { name: meta.name, datatype: meta.datatype, shape: out.dims, data: out.data }
      })
      return { outputs, inferNs: reply.inferNs, transferNs: Math.max(0, roundTripNs - reply.inferNs), waitedNs: 0 }
    } catch (error) {
      gone = error instanceof WorkerGoneError
      throw error
    } finally {
      if (gone) this.track(this.replace(worker))
      else this.queue.release(worker)
    }
  }

  private runInWorker(worker: Worker, tensors: InputTensor[]): Promise<WorkerReply> {
    // Compact copies: posting a view would clone its whole underlying buffer (often a request body).
    const inputs = tensors.map((t) => ({ name: t.name, type: this.ortTypes.get(t.name)!, shape: t.shape, data: t.data.slice() }))
    return exchange<WorkerReply>(worker, { inputs }, inputs.map((i) => (i.data as unknown as ArrayBufferView).buffer as ArrayBuffer))
  }

  /**
   * A run on the main-thread session. onnxruntime-node starts each run in a `setImmediate`, so
   * runs handed over together go back to back in one turn of the event loop (see
   * `canTakeAnother`). A run starts when the event loop reaches it and the one before it has
   * ended: the time before that is `waitedNs` (queue), the rest is inference.
   */
  private async runOnMainThread(session: MainInstance, tensors: InputTensor[]): Promise<InstanceRun> {
    const { Tensor } = ortModule!
    const feeds: Record<string, ort.Tensor> = {}
    for (const t of tensors) feeds[t.name] = new Tensor(this.ortTypes.get(t.name)!, t.data as Float32Array, t.shape)
    const called = process.hrtime.bigint()
    // onnxruntime-node starts the run in a setImmediate of its own, queued after this one: when
    // this fires, what the event loop did since the hand-over (parsing the rest of a burst) is
    // over, and that time is queue, not compute.
    let reached = 0n
    setImmediate(() => { reached = process.hrtime.bigint() })
    // Zero rows still cost a run: counted as one, so they cannot drag the estimate down.
    const rows = Math.max(1, tensors[0]?.shape[0] ?? 1)
    let result: ort.InferenceSession.ReturnType
    this.mainRunning++
    this.mainQueuedRows += rows
    try {
      result = await session.run(feeds)
    } catch (error) {
      this.lastRunEnd = process.hrtime.bigint()
      throw new ModelRunError(String((error as Error)?.message ?? error))
    } finally {
      this.mainRunning--
      this.mainQueuedRows -= rows
    }
    const ended = process.hrtime.bigint()
    // The latest of: the hand-over, the event loop reaching this run, the end of the run before it.
    let started = reached > called ? reached : called
    if (this.lastRunEnd > started) started = this.lastRunEnd
    this.lastRunEnd = ended
    const ran = Number(ended - started)
    this.recentRowNs = this.recentRowNs === Infinity ? ran / rows : 0.8 * this.recentRowNs + 0.2 * (ran / rows)
    const outputs = this.outputs.map((meta) => {
      const out = result[meta.name]!
      return { name: meta.name, datatype: meta.datatype, shape: [...out.dims], data: out.data }
    })
    return { outputs, inferNs: ran, transferNs: 0, waitedNs: Number(started - called) }
  }

  private lastRunEnd = 0n

  /**
   * A crashed instance is replaced by a fresh session in a new thread, never handed out again
   * (a dead thread never answers: every request given to it would hang). Until the new one is
   * ready the model serves with one instance fewer.
   */
  private async replace(dead: Worker): Promise<void> {
    try {
      const { worker } = await startInstance(this.path, this.sessionOptions)
      if (this.closing) {
        await worker.terminate()
        return
      }
      this.workers[this.workers.indexOf(dead)] = worker
      this.queue.release(worker)
      this.onInstanceReady?.()
      process.stderr.write(`inferbench serve: an instance of model '${this.name}' crashed and was replaced\n`)
    } catch (error) {
      this.workers.splice(this.workers.indexOf(dead), 1)
      process.stderr.write(`inferbench serve: an instance of model '${this.name}' crashed and could not be restarted: ${(error as Error).message}\n`)
    }
  }

  /** Instances not running anything right now. */
  get idleInstances(): number {
    if (this.mainInstance) return this.mainRunning === 0 ? 1 : 0
    return this.queue.idleCount
  }

  private mainRunning = 0

  /**
   * Whether a request of `rows` rows handed over now would start without waiting for the
   * scheduler: an idle instance, or room in the main-thread session's run queue. Runs queued
   * there go back to back in one turn of the event loop, as in the simplest server, which hands
   * the session every request at once; but a drain's timer or a health check waits until they
   * have all run. So the queue takes two runs always, and more (up to MAIN_THREAD_RUN_QUEUE_MAX)
   * while the rows queued, this request's included, are expected to take less than
   * MAIN_THREAD_QUEUE_BUDGET_NS, going by the time per row of recent runs: a fast model gets the
   * reference's back-to-back runs, a slow one or a large batch queues two (docs/overhead.md).
   * Time per row from small runs overstates a large batch's, so the estimate errs toward waiting.
   */
  canTakeAnother(rows: number): boolean {
    if (!this.mainInstance) return this.queue.idleCount > 0
    if (this.mainRunning < MAIN_THREAD_RUN_QUEUE) return true
    if (this.mainRunning >= MAIN_THREAD_RUN_QUEUE_MAX) return false
    return (this.mainQueuedRows + Math.max(1, rows)) * this.recentRowNs < MAIN_THREAD_QUEUE_BUDGET_NS
  }

  /** A moving average of main-thread run time per row; unknown (the queue holds two) until one has run. */
  private recentRowNs = Infinity
  /** Rows of the runs handed to the main-thread session and not yet finished. */
  private mainQueuedRows = 0

  /** Called when a replaced instance is ready to serve (the scheduler dispatches what waited). */
  onInstanceReady: (() => void) | undefined
  private closing = false
  private readonly replacing = new Set<Promise<void>>()

  private track(replacement: Promise<void>): void {
    this.replacing.add(replacement)
    void replacement.finally(() => this.replacing.delete(replacement))
  }

  async release(): Promise<void> {
    this.closing = true
    await Promise.all(this.replacing)
    await this.mainInstance?.release()
    return closeWorkers(this.workers)
  }
}

const MAIN_THREAD_RUN_QUEUE = 2
const MAIN_THREAD_QUEUE_BUDGET_NS = 5e6
/** Runs of microseconds would otherwise queue by the thousand: a burst is still committed whole. */
const MAIN_THREAD_RUN_QUEUE_MAX = 16

let ortModule: typeof ort | undefined

/**
 * onnxruntime-node, loaded once when a main-thread instance needs it (a worker-only server never
 * does). Cached: each dynamic import() goes through the module loader, a hop per request.
 */
async function loadOrt(): Promise<typeof ort> {
  const loaded = ortModule ?? await import('onnxruntime-node').then((m) => ((m as unknown as { default?: typeof ort }).default ?? m) as typeof ort)
  ortModule = loaded
  return loaded as typeof ort
}

function describeMetadata(m: ort.InferenceSession.ValueMetadata): WorkerMetadata {
  return m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false }
}

const INSTANCE_WORKER = new URL('./inference-worker.mjs', import.meta.url)

interface WorkerMetadata {
  name: string
  isTensor: boolean
  type?: string
  shape?: Array<number | string>
}

/** One run on an instance; `transferNs` is the hand-over to a worker and back, `waitedNs` the wait for the session. */
interface InstanceRun {
  outputs: OutputTensor[]
  inferNs: number
  transferNs: number
  waitedNs: number
}

type WorkerReply = { error: string } | { inferNs: number; outputs: Array<{ name: string; dims: number[]; data: ort.Tensor['data'] }> }

function startInstance(path: string, options: ort.InferenceSession.SessionOptions): Promise<{ worker: Worker; metadata: { inputs: WorkerMetadata[]; outputs: WorkerMetadata[] } }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(INSTANCE_WORKER, { workerData: { modelPath: path, sessionOptions: options } })
    worker.once('message', (message: { ready: true; inputs: WorkerMetadata[]; outputs: WorkerMetadata[] } | { failed: string }) => {
      if ('ready' in message) resolve({ worker, metadata: { inputs: message.inputs, outputs: message.outputs } })
      else {
        void worker.terminate()
        reject(new Error(`${path}: ${message.failed}`))
      }
    })
    worker.once('error', reject)
  })
}
