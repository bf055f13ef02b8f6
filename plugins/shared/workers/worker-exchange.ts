import type { Worker } from 'node:worker_threads'

/**
 * One message to a worker and its reply; a crashed or ended worker fails the request instead of
 * hanging it. A worker serves one exchange at a time (the instance queue sees to that), so each
 * worker has one reply slot and listeners attached once: nothing is added per request.
 */
export function exchange<T>(worker: Worker, message: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
  const channel = channelOf(worker)
  if (channel.gone) return Promise.reject(channel.gone)
  return new Promise((resolve, reject) => {
    channel.pending = { resolve: resolve as (reply: unknown) => void, reject }
    worker.postMessage(message, transfer)
  })
}

interface Channel {
  pending?: { resolve(reply: unknown): void; reject(error: Error): void }
  gone?: WorkerGoneError
}

const channels = new WeakMap<Worker, Channel>()

function channelOf(worker: Worker): Channel {
  let channel = channels.get(worker)
  if (channel) return channel
  const created: Channel = worker.threadId === -1 ? { gone: new WorkerGoneError('inference worker has ended') } : {}
  const settle = (error?: WorkerGoneError, reply?: unknown) => {
    const pending = created.pending
    created.pending = undefined
    if (error) {
      created.gone ??= error
      pending?.reject(error)
    } else pending?.resolve(reply)
  }
  worker.on('message', (reply: unknown) => settle(undefined, reply))
  worker.on('error', (error: Error) => settle(new WorkerGoneError(`inference worker crashed: ${error.message}`, { cause: error })))
  worker.on('exit', (code: number) => settle(new WorkerGoneError(`inference worker exited (code ${code})`)))
  channel = created
  channels.set(worker, channel)
  return channel
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
