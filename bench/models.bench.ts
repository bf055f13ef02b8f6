import { bench, describe, model, workload } from 'inferbench'
import { ZOO } from '../plugins/models/index.ts'

// Stage 1 "Generate": how long each zoo architecture takes to build with seeded weights, and the
// sensitivity sweeps the heat maps and the roofline read (§5.2): CNN and Transformer models of
// growing depth and width at several batch sizes, on the in-process backend.
// Run with `npx inferbench bench/models.bench.ts` (about 10 minutes on 2 cores).

describe('zoo generation time (seeded weights, serialised ONNX)', () => {
  for (const [name, generator] of Object.entries(ZOO)) {
    const params = generator.normalize({})
    bench(`generate ${name}`, () => generator.generate(params), { iterations: 2, time: 0, warmupIterations: 0, warmupTime: 0 })
  }
})

const measure = { workload: workload.closed({ concurrency: 1, duration: '2s' }), warmup: '300ms' }

describe('CNN sensitivity: layers × channels × batch', {
  model: model.generate('cnn', { layers: [2, 4, 8], channels: [16, 32, 64], imageSize: 32 }),
  batch: [1, 8, 32],
}, () => {
  bench('closed loop', measure)
})

describe('Transformer sensitivity: layers × hidden × batch', {
  model: model.generate('transformer', { layers: [2, 4, 8], hidden: [128, 256], heads: 4, ffn: 1024, seqLen: 64, vocab: 8000 }),
  batch: [1, 8, 32],
}, () => {
  bench('closed loop', measure)
})
