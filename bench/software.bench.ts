import { bench, describe, model, workload } from 'inferbench'

// The software tier (§5.3, Fig. 11(d) and Fig. 12) on this machine: the same generated ResNet-50
// and BERT-base through the in-process backend and our server over HTTP and gRPC, with and
// without dynamic batching, under closed-loop concurrency 1…32 and Poisson load.
// Run with `npx inferbench bench/software.bench.ts` (about 25 minutes on 2 cores).
// TF Serving and Triton need a Docker engine: point the `docker` or `triton` backend at one to
// add them to the same tables.

const CONCURRENCY = [1, 4, 16, 32]
const serving = [
  { title: 'in-process onnxruntime', options: { backend: 'onnxruntime' } },
  { title: 'server', options: { backend: 'server', protocol: ['http', 'grpc'], maxBatch: [0, 16], maxQueueDelay: '5ms' } },
] as const

for (const [name, m, rate] of [
  ['ResNet-50 (224×224)', model.zoo('resnet50'), 20],
  ['BERT-base (seq 128)', model.zoo('bert_base', { seqLen: 128 }), 6],
] as const) {
  describe(name, { model: m, batch: 1 }, () => {
    for (const { title, options } of serving) {
      describe(title, options, () => {
        for (const concurrency of CONCURRENCY) {
          bench(`closed loop, ${concurrency} clients`, { workload: workload.closed({ concurrency, duration: '8s' }), warmup: '2s' })
        }
        bench(`poisson ${rate} req/s`, { workload: workload.poisson({ rate, duration: '15s', seed: 11 }), warmup: '2s' })
      })
    }
  })
}
