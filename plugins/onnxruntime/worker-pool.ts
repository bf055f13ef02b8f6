import { Worker } from 'node:worker_threads'
import type * as ort from 'onnxruntime-node'
import type { SynthesisedInput } from '../inputs/synthesize.ts'

const WORKER = new URL('./session-worker.mjs', import.meta.url)

/**
 * `instances` sessions, each in a worker thread, serving requests first come first served: the
 * in-process counterpart of a server's model instances, with the load generator's thread free.
 */
export class WorkerSessionPool {
  private readonly idle: Worker[] = []
  private readonly waiting: Array<(worker: Worker) => void> = []

  private constructor(private readonly workers: Worker[]) {
    this.idle.push(...workers)
  }

  static async start(modelPath: string, sessionOptions: ort.InferenceSession.SessionOptions, inputs: SynthesisedInput[], instances: number): Promise<WorkerSessionPool> {
    const workers = await Promise.all(Array.from({ length: instances }, () => startWorker(modelPath, sessionOptions, inputs)))
    return new WorkerSessionPool(workers)
  }

  run(): Promise<void> {
    const worker = this.idle.pop()
    return worker ? this.runOn(worker) : new Promise<Worker>((resolve) => this.waiting.push(resolve)).then((w) => this.runOn(w))
  }

  private runOn(worker: Worker): Promise<void> {
    return new Promise((resolve, reject) => {
      worker.once('message', (result: 0 | string) => {
        const next = this.waiting.shift()
        if (next) next(worker)
        else this.idle.push(worker)
        if (result === 0) resolve()
        else reject(new Error(result))
      })
      worker.postMessage({ op: 'run' })
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => new Promise<void>((resolve) => {
      w.once('exit', () => resolve())
      w.postMessage({ op: 'close' })
    })))
  }
}

function startWorker(modelPath: string, sessionOptions: ort.InferenceSession.SessionOptions, inputs: SynthesisedInput[]): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, {
      workerData: { modelPath, sessionOptions, inputs: inputs.map((i) => ({ name: i.name, type: i.type, shape: i.shape, data: i.data.slice() })) },
    })
    worker.once('message', (message: 'ready' | { failed: string }) => {
      if (message === 'ready') resolve(worker)
      else {
        void worker.terminate()
        reject(new Error(message.failed))
      }
    })
    worker.once('error', reject)
  })
}
