import { bench, describe, model, workload } from 'inferbench'

// The paper's sensitivity study (§5.3, Fig. 9 heat maps, Fig. 10 rooflines) on this machine:
// how latency and throughput move with model depth and width against batch size, for a CNN and
// a Transformer. Run: npx inferbench bench/sensitivity.bench.ts, then open the HTML report
// (inferbench-report/index.html): each suite draws a heat map of its two swept parameters (pick
// p50, p99 or samples/s) and places every job on the roofline (run `npx inferbench roofline`
// once first, so the roof is this machine's measured one).
//
// One intra-op thread: on a 2-core VM the other core runs the load generator, and the figures
// compare shapes, not the machine's peak. Each job: one closed-loop client for 2 s after 300 ms
// of warm-up; the models are sized so the slowest job still answers 100+ requests (the minimum
// for a valid measurement), about 90 s in all here.
const run = { workload: workload.closed({ concurrency: 1, duration: '2s' }), warmup: '300ms' } as const
const batch = [1, 4, 8]

describe('CNN depth × batch', { model: model.generate('cnn', { layers: [2, 4, 8], channels: 16, imageSize: 32 }), batch, intraOpThreads: 1 }, () => {
  bench('closed loop', run)
})
describe('CNN width × batch', { model: model.generate('cnn', { layers: 4, channels: [8, 16, 32], imageSize: 32 }), batch, intraOpThreads: 1 }, () => {
  bench('closed loop', run)
})
describe('Transformer depth × batch', { model: model.generate('transformer', { layers: [1, 2, 4], hidden: 64, heads: 4, ffn: 256, seqLen: 64, vocab: 1000 }), batch, intraOpThreads: 1 }, () => {
  bench('closed loop', run)
})
describe('Transformer width × batch', { model: model.generate('transformer', { layers: 2, hidden: [32, 64, 128], heads: 4, ffn: 256, seqLen: 64, vocab: 1000 }), batch, intraOpThreads: 1 }, () => {
  bench('closed loop', run)
})
