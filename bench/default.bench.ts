import { availableParallelism } from 'node:os'
import { bench, describe, model, workload } from 'inferbench'

// The quick default suite (`npx inferbench`): generated MLPs on the in-process backend, a batch
// sweep under a closed loop (capacity), and latency under Poisson arrivals at a moderate load.
describe('generated MLP, in-process onnxruntime', {
  model: model.generate('fc', { layers: 4, width: [256, 1024], inputDim: 256 }),
  backend: 'onnxruntime',
  // One core is left to the load generator and the runtime (timers, GC): with onnxruntime on
  // every core of a 2-core VM, closed-loop windows varied 20-56%, 3-5 of 10 rows stayed unstable
  // and the retries took the suite to 58 s. On 2 cores this is one intra-op thread, which is
  // slower per inference (fc 4x1024: 1.2-1.8 ms against 0.3-0.46 ms with 2): sweep
  // intraOpThreads in your own suite to see a machine's full capacity.
  intraOpThreads: Math.max(1, availableParallelism() - 1),
}, () => {
  describe('capacity', { batch: [1, 8, 32] }, () => {
    bench('closed loop, 1 client', {
      workload: workload.closed({ concurrency: 1, duration: '1s' }),
      // The first 0.2-0.4 s after start-up run 15-25% slower here: warm past them.
      warmup: '500ms',
    })
  })
  // Over 1,000 answers per row, so that p99 rests on 10+ answers beyond it and can be judged.
  describe('latency under load', { batch: [1, 8] }, () => {
    bench('poisson 200 req/s', {
      workload: workload.poisson({ rate: 200, duration: '6s', seed: 7 }),
      warmup: '300ms',
      slo: { p99: '100ms' },
    })
  })
})
