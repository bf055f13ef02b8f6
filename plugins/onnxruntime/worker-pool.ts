import { Worker } from 'node:worker_threads'
import type * as ort from 'onnxruntime-node'
import type { ProcessorModel, RunAnswer, TensorMap } from '../../core/plugin-api.ts'
import type { SynthesisedInput } from '../shared/inputs/synthesize.ts'
import { InstanceQueue, closeWorkers, exchange, startWorkers, watchWorkers } from '../shared/workers/worker-exchange.ts'

const WORKER = new URL('./session-worker.mjs', import.meta.url)

/**
 * `instances` sessions, each in a worker thread, serving requests first come first served: the
 * in-process counterpart of a server's model instances, with the load generator's thread free.
 */
export class WorkerSessionPool {
  private readonly queue: InstanceQueue<Worker>
  private readonly closing: () => void

  private constructor(private readonly workers: Worker[], readonly io: ProcessorModel, onDeath: (error: Error) => void) {
    this.queue = new InstanceQueue(workers)
    this.closing = watchWorkers(workers, 'onnxruntime worker thread', onDeath)
  }

  /** `onDeath` hears of a worker that ended while the pool was open. */
  static async start(modelPath: string, sessionOptions: ort.InferenceSession.SessionOptions, inputs: SynthesisedInput[], instances: number,
    onDeath: (error: Error) => void): Promise<WorkerSessionPool> {
    const started = await startWorkers(instances, () => startWorker(modelPath, sessionOptions, inputs))
    return new WorkerSessionPool(started.map((s) => s.worker), started[0]!.io, onDeath)
  }

  async run(): Promise<void> {
    const worker = await this.queue.acquire()
    try {
      const result = await exchange<0 | string>(worker, { op: 'run' })
      if (result !== 0) throw new Error(result)
    } finally {
      this.queue.release(worker)
    }
  }

  /** A pipeline's request: its tensors go to the worker (copied: they are small beside a run) and the outputs come back. */
  async runWith(inputs: TensorMap, outputs?: string[]): Promise<RunAnswer> {
    const worker = await this.queue.acquire()
    try {
      const result = await exchange<{ outputs: TensorMap } | string>(worker, { op: 'run', inputs, ...(outputs ? { outputs } : {}) })
      if (typeof result === 'string') throw new Error(result)
      return { outputs: result.outputs }
    } finally {
      this.queue.release(worker)
    }
  }

  close(): Promise<void> {
    this.closing()
    return closeWorkers(this.workers)
  }
}

function startWorker(modelPath: string, sessionOptions: ort.InferenceSession.SessionOptions, inputs: SynthesisedInput[]): Promise<{ worker: Worker; io: ProcessorModel }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      workerData: { modelPath, sessionOptions, inputs: inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape, data: i.data.slice() })) },
    })
    worker.once('message', (message: { ready: ProcessorModel } | { failed: string }) => {
      if ('ready' in message) resolve({ worker, io: message.ready })
      else {
        void worker.terminate()
        reject(new Error(message.failed))
      }
    })
    worker.once('error', reject)
  })
}
