import type { Worker } from 'node:worker_threads'

/** One message to a worker and its reply; a crashed or ended worker fails the request instead of hanging it. */
export function exchange<T>(worker: Worker, message: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    if (worker.threadId === -1) return reject(new WorkerGoneError('inference worker has ended'))
    const cleanup = () => {
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
    }
    const onMessage = (reply: T) => {
      cleanup()
      resolve(reply)
    }
    const onError = (error: Error) => {
      cleanup()
      reject(new WorkerGoneError(`inference worker crashed: ${error.message}`, { cause: error }))
    }
    const onExit = (code: number) => {
      cleanup()
      reject(new WorkerGoneError(`inference worker exited (code ${code})`))
    }
    worker.once('message', onMessage)
    worker.once('error', onError)
    worker.once('exit', onExit)
    worker.postMessage(message, transfer)
  })
}

/** The worker thread behind an instance is gone: the instance must be replaced, not reused. */
export class WorkerGoneError extends Error {
  override name = 'WorkerGoneError'
}

/** Starts `count` workers; if any fails, stops the others and throws its error (no thread is left running). */
export async function startWorkers<T extends { worker: Worker }>(count: number, start: () => Promise<T>): Promise<T[]> {
  const settled = await Promise.allSettled(Array.from({ length: count }, start))
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failure) {
    await Promise.all(started.map((s) => s.worker.terminate()))
    throw failure.reason
  }
  return started
}

/** Instances handed out first come first served: `acquire` waits while all are busy. */
export class InstanceQueue<T> {
  private readonly idle: T[]
  private readonly waiting: Array<(instance: T) => void> = []

  constructor(instances: T[]) {
    this.idle = [...instances]
  }

  get idleCount(): number {
    return this.idle.length
  }

  acquire(): Promise<T> {
    const instance = this.idle.pop()
    return instance !== undefined ? Promise.resolve(instance) : new Promise((resolve) => this.waiting.push(resolve))
  }

  release(instance: T): void {
    const next = this.waiting.shift()
    if (next) next(instance)
    else this.idle.push(instance)
  }
}

/** Asks each worker to release its session and waits for the threads to end (a dead one is skipped). */
export function closeWorkers(workers: Worker[]): Promise<void> {
  return Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    if (w.threadId === -1) return resolve()
    w.once('exit', () => resolve())
    w.postMessage({ op: 'close' })
  }))).then(() => undefined)
}

/**
 * Calls `onDeath` when a worker ends without being asked to (a crash, an uncaught error, a
 * native abort), naming how it ended. Returns the function that marks the workers as closing.
 */
export function watchWorkers(workers: Worker[], what: string, onDeath: (error: Error) => void): () => void {
  let closing = false
  for (const worker of workers) {
    let lastError: Error | undefined
    worker.on('error', (error) => { lastError = error })
    worker.once('exit', (code) => {
      if (!closing) onDeath(new Error(`${what} exited (code ${code})${lastError ? `: ${lastError.message}` : ''}`, lastError ? { cause: lastError } : {}))
    })
  }
  return () => { closing = true }
}
