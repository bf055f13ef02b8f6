import client from 'prom-client'
import type { StatisticsRecorder } from './statistics.ts'

const BATCH_ROWS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128]

/**
 * Prometheus metrics of the server (GET /metrics), in the spirit of Triton's nv_inference_* family.
 * Read from each model's statistics when scraped, so a request updates plain counters only
 * (prom-client's labelled counters and histogram cost 1-1.5 µs per request in a hot loop, 8-14 µs
 * in the server's CPU profile; docs/overhead.md).
 */
export class ServerMetrics {
  readonly registry = new client.Registry()

  constructor(models: () => StatisticsRecorder[]) {
    const counter = (name: string, help: string, value: (s: StatisticsRecorder) => number) => new client.Counter({
      name, help, labelNames: ['model'], registers: [this.registry],
      collect() {
        this.reset()
        for (const stats of models()) this.inc({ model: stats.model }, value(stats))
      },
    })
    counter('inferbench_inference_request_success', 'Successful inference requests', (s) => s.totals().success.count)
    counter('inferbench_inference_request_failure', 'Failed inference requests', (s) => s.totals().fail.count)
    counter('inferbench_inference_count', 'Inferences (rows of the batch dimension) performed', (s) => s.inferenceCount)
    counter('inferbench_inference_queue_duration_us', 'Cumulative time requests waited in the queue, microseconds', (s) => s.totals().queue.ns / 1000)
    counter('inferbench_inference_compute_duration_us', 'Cumulative compute time of requests, microseconds',
      (s) => (s.totals().compute_input.ns + s.totals().compute_infer.ns + s.totals().compute_output.ns) / 1000)
    this.registry.registerMetric(batchRowsHistogram(models) as unknown as client.Metric)
    client.collectDefaultMetrics({ register: this.registry, prefix: 'inferbench_process_' })
  }
}

/** Rows in the batch each request was executed in, as a Prometheus histogram built from the statistics' counts. */
function batchRowsHistogram(models: () => StatisticsRecorder[]) {
  const name = 'inferbench_batch_rows'
  const get = () => {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = []
    for (const stats of models()) {
      const counts = stats.requestsByBatchRows()
      let sum = 0
      let count = 0
      for (const [rows, n] of counts) {
        sum += rows * n
        count += n
      }
      for (const le of BATCH_ROWS_BUCKETS) {
        let below = 0
        for (const [rows, n] of counts) if (rows <= le) below += n
        values.push({ metricName: `${name}_bucket`, labels: { le, model: stats.model }, value: below })
      }
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', model: stats.model }, value: count })
      values.push({ metricName: `${name}_sum`, labels: { model: stats.model }, value: sum })
      values.push({ metricName: `${name}_count`, labels: { model: stats.model }, value: count })
    }
    return { name, help: 'Rows in the batch each request was executed in', type: 'histogram', values, aggregator: 'sum' }
  }
  return { name, get: async () => get() }
}
