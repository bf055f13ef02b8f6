/**
 * Cumulative per-model statistics in the shape of Triton's statistics extension
 * (GET /v2/models/{m}/stats): counts and nanoseconds, to be read as deltas between snapshots.
 */
export interface Duration {
  count: number
  ns: number
}

export interface ModelStatistics {
  name: string
  version: string
  last_inference: number
  inference_count: number
  execution_count: number
  inference_stats: {
    success: Duration
    fail: Duration
    queue: Duration
    compute_input: Duration
    compute_infer: Duration
    compute_output: Duration
  }
  batch_stats: Array<{ batch_size: number; compute_input: Duration; compute_infer: Duration; compute_output: Duration }>
}

const zero = (): Duration => ({ count: 0, ns: 0 })

export class StatisticsRecorder {
  private readonly stats: ModelStatistics
  private readonly batches = new Map<number, ModelStatistics['batch_stats'][number]>()
  /** Requests by the rows of the batch they ran in (for the Prometheus histogram). */
  private readonly byBatchRows = new Map<number, number>()

  constructor(name: string, version: string) {
    this.stats = {
      name, version, last_inference: 0, inference_count: 0, execution_count: 0,
      inference_stats: { success: zero(), fail: zero(), queue: zero(), compute_input: zero(), compute_infer: zero(), compute_output: zero() },
      batch_stats: [],
    }
  }

  /**
   * One executed batch of `rows` rows serving `requests` requests. Triton's convention: each
   * request's compute is the whole batch's, so a batch of 4 requests adds 4 counts and 4 times
   * its duration; a client's per-request mean then equals the compute_us each answer carries.
   */
  execution(rows: number, requests: number, inputNs: number, inferNs: number, outputNs: number): void {
    const s = this.stats
    s.execution_count++
    s.inference_count += rows
    s.last_inference = Date.now()
    add(s.inference_stats.compute_input, inputNs * requests, requests)
    add(s.inference_stats.compute_infer, inferNs * requests, requests)
    add(s.inference_stats.compute_output, outputNs * requests, requests)
    let b = this.batches.get(rows)
    if (!b) {
      b = { batch_size: rows, compute_input: zero(), compute_infer: zero(), compute_output: zero() }
      this.batches.set(rows, b)
    }
    add(b.compute_input, inputNs, 1)
    add(b.compute_infer, inferNs, 1)
    add(b.compute_output, outputNs, 1)
    this.byBatchRows.set(rows, (this.byBatchRows.get(rows) ?? 0) + requests)
  }

  request(ok: boolean, totalNs: number, queueNs: number): void {
    add(ok ? this.stats.inference_stats.success : this.stats.inference_stats.fail, totalNs, 1)
    if (ok) add(this.stats.inference_stats.queue, queueNs, 1)
  }

  get model(): string {
    return this.stats.name
  }

  get inferenceCount(): number {
    return this.stats.inference_count
  }

  /** The live cumulative durations (read-only: for metrics read at scrape time, without a copy). */
  totals(): Readonly<ModelStatistics['inference_stats']> {
    return this.stats.inference_stats
  }

  requestsByBatchRows(): ReadonlyMap<number, number> {
    return this.byBatchRows
  }

  snapshot(): ModelStatistics {
    return structuredClone({ ...this.stats, batch_stats: [...this.batches.values()].sort((a, b) => a.batch_size - b.batch_size) })
  }
}

function add(d: Duration, ns: number, count: number): void {
  d.count += count
  d.ns += Math.round(ns)
}
