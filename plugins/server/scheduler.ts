import type * as ort from 'onnxruntime-node'
import { BadRequestError, ModelRunError, type InputTensor, type OutputTensor, type ServedModel } from './served-model.ts'

export interface BatchingOptions {
  /** Largest merged batch, in rows of the batch dimension. */
  maxBatch: number
  /** How long the oldest queued request may wait for others to join it. */
  maxQueueDelayUs: number
  /** Batch sizes dispatched as soon as the queue can form them (Triton's preferred_batch_size). */
  preferredBatch: number[]
}

export interface InferResult {
  outputs: OutputTensor[]
  queueNs: number
  /** Merge + inference + split, for this request's batch. */
  computeNs: number
  batchRows: number
}

interface Pending {
  tensors: InputTensor[]
  rows: number
  /** Requests merge only with others of the same non-batch shapes. */
  key: string
  arrived: bigint
  resolve(result: InferResult): void
  reject(error: unknown): void
}

/**
 * Queues requests for a model's instances. Without batching each request runs alone, in
 * arrival order, as soon as an instance is idle. With dynamic batching, requests of the same
 * shape are merged along the batch dimension until `maxBatch` rows, a preferred size, or the
 * oldest has waited `maxQueueDelayUs`; each caller gets its own rows of the outputs back.
 */
export class Scheduler {
  private queue: Pending[] = []
  private timer: NodeJS.Timeout | undefined
  private running = 0
  private drained: Array<() => void> = []
  /** Set on shutdown: queued requests go out at once instead of waiting for their batch to fill. */
  private flushing = false

  constructor(private readonly model: ServedModel, private readonly batching?: BatchingOptions) {
    // A replaced instance comes back outside any request's completion: dispatch what waited for it.
    model.onInstanceReady = () => this.pump()
  }

  infer(tensors: InputTensor[], rows: number): Promise<InferResult> {
    // Triton's rule: with batching on, one request may not carry more rows than a batch holds.
    if (this.batching && this.model.batchable && rows > this.batching.maxBatch) {
      return Promise.reject(new BadRequestError(`the request has ${rows} rows in its batch dimension, more than max-batch ${this.batching.maxBatch} of model '${this.model.name}'; split it`))
    }
    // Batching off and an instance free: nothing to queue or group, so the request goes straight
    // to the model, the shortest path there is (what the layers it skips cost: docs/overhead.md).
    if (!this.batching && this.queue.length === 0 && this.model.canTakeAnother(rows)) return this.runAlone(tensors, rows)
    return new Promise((resolve, reject) => {
      // Only batching groups by shape; without it the key would be built for nothing.
      const key = this.batching ? tensors.map((t) => `${t.name}:${t.shape.slice(1).join('x')}`).join('|') : ''
      this.queue.push({ tensors, rows, key, arrived: process.hrtime.bigint(), resolve, reject })
      this.pump()
    })
  }

  /** Dispatches everything queued without waiting out the batching delay, then resolves when idle. */
  flush(): Promise<void> {
    this.flushing = true
    this.pump()
    return this.idle()
  }

  /** Resolves when nothing is queued or running (for a graceful shutdown). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve()
    return new Promise((resolve) => this.drained.push(resolve))
  }

  private pump(): void {
    // Without batching, a request goes as soon as the model can take it; with batching, requests
    // wait here, where a batch can form, until an instance is idle.
    while (this.queue.length > 0 && (this.batching ? this.model.idleInstances > 0 : this.model.canTakeAnother(this.queue[0]!.rows))) {
      const batch = this.takeBatch(process.hrtime.bigint())
      if (!batch) {
        this.armTimer()
        return
      }
      void this.execute(batch)
    }
  }

  private takeBatch(now: bigint): Pending[] | undefined {
    if (!this.batching || !this.model.batchable) return [this.queue.shift()!]
    const { maxBatch, maxQueueDelayUs, preferredBatch } = this.batching
    const head = this.queue[0]!
    const group: Pending[] = []
    let rows = 0
    for (const p of this.queue) {
      if (p.key !== head.key) continue
      if (group.length > 0 && rows + p.rows > maxBatch) break
      group.push(p)
      rows += p.rows
    }
    let take: Pending[] | undefined
    if (rows >= maxBatch) take = group
    else {
      // Largest preferred size first; requests are whole, so when the queue's rows cannot make up
      // one size exactly, a smaller one may still be formed from its head (Triton tries them all).
      for (const preferred of preferredBatch.filter((size) => size <= rows).sort((a, b) => b - a)) {
        let cumulative = 0
        const prefix = group.filter((p) => (cumulative += p.rows) <= preferred)
        if (prefix.reduce((s, p) => s + p.rows, 0) === preferred) {
          take = prefix
          break
        }
      }
      if (!take && (this.flushing || Number(now - head.arrived) / 1000 >= maxQueueDelayUs)) take = group
    }
    if (take) {
      const taken = new Set(take)
      this.queue = this.queue.filter((p) => !taken.has(p))
    }
    return take
  }

  private armTimer(): void {
    if (this.timer || !this.batching || this.queue.length === 0) return
    const waitedUs = Number(process.hrtime.bigint() - this.queue[0]!.arrived) / 1000
    const remainingMs = Math.max(0, (this.batching.maxQueueDelayUs - waitedUs) / 1000)
    const fire = () => {
      this.timer = undefined
      this.pump()
    }
    // Timers fire in whole milliseconds; a sub-millisecond delay is honoured by re-checking on
    // the next event-loop turn instead (busy only while a batch is forming).
    if (remainingMs < 1) {
      this.timer = setImmediate(fire) as unknown as NodeJS.Timeout
      return
    }
    this.timer = setTimeout(fire, remainingMs)
  }

  private async runAlone(tensors: InputTensor[], rows: number): Promise<InferResult> {
    this.running++
    try {
      const { outputs, inferNs, transferNs, waitedNs } = await this.model.run(tensors)
      this.model.stats.execution(rows, 1, transferNs, inferNs, 0)
      return { outputs, queueNs: waitedNs, computeNs: transferNs + inferNs, batchRows: rows }
    } finally {
      this.finished()
    }
  }

  private async execute(batch: Pending[]): Promise<void> {
    this.running++
    const dispatched = process.hrtime.bigint()
    try {
      const mergeStart = process.hrtime.bigint()
      const tensors = batch.length === 1 ? batch[0]!.tensors : merge(batch)
      const mergeNs = Number(process.hrtime.bigint() - mergeStart)
      const { outputs, inferNs, transferNs, waitedNs } = await this.model.run(tensors)
      const splitStart = process.hrtime.bigint()
      const parts = batch.length === 1 ? [outputs] : split(outputs, batch.map((p) => p.rows))
      const outputNs = Number(process.hrtime.bigint() - splitStart)
      // Merging and the hand-over to the instance's thread and back are the "input" part of compute.
      const inputNs = mergeNs + transferNs
      const rows = batch.reduce((s, p) => s + p.rows, 0)
      this.model.stats.execution(rows, batch.length, inputNs, inferNs, outputNs)
      batch.forEach((p, i) => p.resolve({
        outputs: parts[i]!, queueNs: Number(dispatched - p.arrived) + waitedNs, computeNs: inputNs + inferNs + outputNs, batchRows: rows,
      }))
    } catch (error) {
      // One request's bad values must not fail the others merged with it: run each alone, so
      // each gets its own answer or its own error.
      if (batch.length > 1 && error instanceof ModelRunError) for (const p of batch) await this.execute([p])
      else for (const p of batch) p.reject(error)
    } finally {
      this.finished()
    }
  }

  private finished(): void {
    this.running--
    this.pump()
    if (this.queue.length === 0 && this.running === 0) for (const done of this.drained.splice(0)) done()
  }
}

/** Concatenates each input along the batch dimension. */
function merge(batch: Pending[]): InputTensor[] {
  return batch[0]!.tensors.map((first, i) => {
    const parts = batch.map((p) => p.tensors[i]!.data)
    const total = parts.reduce((s, d) => s + d.length, 0)
    const Ctor = first.data.constructor as new (n: number) => ort.Tensor['data'] & { set(a: ArrayLike<unknown>, o: number): void }
    const data = new Ctor(total)
    let offset = 0
    for (const d of parts) {
      data.set(d as ArrayLike<unknown>, offset)
      offset += d.length
    }
    return { ...first, shape: [batch.reduce((s, p) => s + p.rows, 0), ...first.shape.slice(1)], data }
  })
}

/** Splits each output's batch dimension back into the callers' rows (views, no copies). */
function split(outputs: OutputTensor[], rows: number[]): OutputTensor[][] {
  const result: OutputTensor[][] = rows.map(() => [])
  for (const out of outputs) {
    const total = out.shape[0]!
    const perRow = out.data.length / total
    let start = 0
    rows.forEach((r, i) => {
      const data = (out.data as unknown as { subarray(a: number, b: number): ort.Tensor['data'] }).subarray(start * perRow, (start + r) * perRow)
      result[i]!.push({ ...out, shape: [r, ...out.shape.slice(1)], data })
      start += r
    })
  }
  return result
}
