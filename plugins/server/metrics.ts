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

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'inferbench_process_' })
  }

  succeeded(model: string, rows: number, queueNs: number, computeNs: number, batchRows: number): void {
    this.success.inc({ model })
    this.rows.inc({ model }, rows)
    this.queue.inc({ model }, queueNs / 1000)
    this.compute.inc({ model }, computeNs / 1000)
    this.batch.observe({ model }, batchRows)
  }

  failed(model: string): void {
    this.failure.inc({ model })
  }
}
