import client from 'prom-client'

/** Prometheus metrics of the server (GET /metrics), in the spirit of Triton's nv_inference_* family. */
export class ServerMetrics {
  readonly registry = new client.Registry()
  private readonly success = new client.Counter({ name: 'inferbench_inference_request_success', help: 'Successful inference requests', labelNames: ['model'], registers: [this.registry] })
  private readonly failure = new client.Counter({ name: 'inferbench_inference_request_failure', help: 'Failed inference requests', labelNames: ['model'], registers: [this.registry] })
  private readonly rows = new client.Counter({ name: 'inferbench_inference_count', help: 'Inferences (rows of the batch dimension) performed', labelNames: ['model'], registers: [this.registry] })
  private readonly queue = new client.Counter({ name: 'inferbench_inference_queue_duration_us', help: 'Cumulative time requests waited in the queue, microseconds', labelNames: ['model'], registers: [this.registry] })
  private readonly compute = new client.Counter({ name: 'inferbench_inference_compute_duration_us', help: 'Cumulative compute time of requests, microseconds', labelNames: ['model'], registers: [this.registry] })
  private readonly batch = new client.Histogram({
    name: 'inferbench_batch_rows', help: 'Rows in the batch each request was executed in', labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers: [this.registry],
  })

  // The per-model children, resolved once: no label lookup on the request path.
  private readonly children = new Map<string, ReturnType<ServerMetrics['childrenOf']>>()

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'inferbench_process_' })
  }

  succeeded(model: string, rows: number, queueNs: number, computeNs: number, batchRows: number): void {
    const c = this.of(model)
    c.success.inc()
    c.rows.inc(rows)
    c.queue.inc(queueNs / 1000)
    c.compute.inc(computeNs / 1000)
    c.batch.observe(batchRows)
  }

  failed(model: string): void {
    this.of(model).failure.inc()
  }

  private of(model: string): ReturnType<ServerMetrics['childrenOf']> {
    let c = this.children.get(model)
    if (!c) {
      c = this.childrenOf(model)
      this.children.set(model, c)
    }
    return c
  }

  private childrenOf(model: string) {
    return {
      success: this.success.labels(model), failure: this.failure.labels(model), rows: this.rows.labels(model),
      queue: this.queue.labels(model), compute: this.compute.labels(model), batch: this.batch.labels(model),
    }
  }
}
