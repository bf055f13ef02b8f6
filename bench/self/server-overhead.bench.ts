import { bench, describe, model, workload } from 'inferbench'

/**
 * (b) What our server adds over the in-process backend at batch 1 (median and p99, µs), over
 *     HTTP and gRPC, on the same model in the same run.
 * (c) The throughput gain of dynamic batching at concurrency 16 over none, on a model where
 *     batching helps (a wide MLP: at batch 1 its time goes to streaming the weights). Target ≥ 1.5×.
 */
const mlp = model.generate('fc', { layers: 4, width: 2048, inputDim: 2048, outputDim: 1000 })
const latencies: Record<string, { p50: number; p99: number }> = {}
const throughputs: Record<string, number> = {}

describe('(b) server latency over in-process, batch 1, one client', { model: mlp, batch: 1 }, () => {
  const measure = { workload: workload.closed({ concurrency: 1, duration: '5s' }), warmup: '1s' }
  bench('in-process', { ...measure, backend: 'onnxruntime' }, (r) => {
    latencies.inProcess = { p50: r.latency.p50, p99: r.latency.p99 }
  })
  for (const protocol of ['http', 'grpc'] as const) {
    bench(`server over ${protocol}`, { ...measure, backend: 'server', protocol }, (r) => {
      const base = latencies.inProcess
      if (!base) return undefined
      return { addedP50Us: (r.latency.p50 - base.p50) * 1000, addedP99Us: (r.latency.p99 - base.p99) * 1000 }
    })
  }
})

describe('(c) dynamic batching gain at concurrency 16', { model: mlp, batch: 1, backend: 'server', protocol: 'http' }, () => {
  const measure = { workload: workload.closed({ concurrency: 16, duration: '6s' }), warmup: '1s' }
  bench('no batching', { ...measure, maxBatch: 0 }, (r) => {
    throughputs.none = r.throughput.requestsPerSec
  })
  bench('dynamic batching, up to 16 rows, 2 ms delay', { ...measure, maxBatch: 16, maxQueueDelay: '2ms' }, (r) => {
    const none = throughputs.none
    if (!none) return undefined
    const gain = r.throughput.requestsPerSec / none
    if (gain < 1.5) throw new Error(`dynamic batching gained ${gain.toFixed(2)}× over none at concurrency 16; target ≥ 1.5×`)
    return { gainOverNone: gain }
  })
})
