import { bench, describe, model, workload } from 'inferbench'

// The quick default suite (`npx inferbench`): generated MLPs on the in-process backend, a batch
// sweep under a closed loop (capacity) and under Poisson arrivals (latency at a given load).
describe('generated MLP, in-process onnxruntime', {
  model: model.generate('fc', { layers: 4, width: [256, 1024], inputDim: 256 }),
  backend: 'onnxruntime',
  batch: [1, 8, 32],
}, () => {
  bench('closed loop, 1 client', {
    workload: workload.closed({ concurrency: 1, duration: '1.5s' }),
    warmup: '300ms',
  })
  bench('poisson 200 req/s', {
    workload: workload.poisson({ rate: 200, duration: '3s', seed: 7 }),
    warmup: '300ms',
    slo: { p99: '100ms' },
  })
})
