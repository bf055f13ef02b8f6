import { bench, describe, model, processor, workload } from 'inferbench'

// The pipeline tier (§3.3, §5.4 Fig. 14): a real service decodes, resizes and normalises what it
// receives, sends it over a network, queues, infers, and turns logits into labels. Each request's
// stages are timed (jobs[].stages; the HTML report's "where the time goes" chart).
// Run with `npx inferbench -c bench/pipeline.config.ts` (about 10 minutes on 2 cores): ResNet-50
// at batch 32 answers a few requests in a job's 15 s here, so that config accepts 5 answers.

const load = { workload: workload.closed({ concurrency: 1, duration: '15s' }), warmup: { requests: 1 } }

describe('image classification: JPEG/PNG bytes → ResNet-50 → top-5 labels (Fig. 14a/b)', {
  model: model.zoo('resnet50'),
  backend: 'server',
  intraOpThreads: 1,
  batch: [1, 8, 32],
  network: ['lan', 'wifi', 'lte'],
}, () => {
  bench('pre-processing on the client', {
    ...load,
    pipeline: { data: 'images', pre: processor('image', { size: 224 }), post: processor('topK', { k: 5 }) },
  })
})

describe('raw bytes to the server: pre-processing beside the model', {
  model: model.zoo('resnet50'),
  backend: 'server',
  intraOpThreads: 1,
  batch: [1, 8],
  network: 'lte',
  placement: ['client', 'server'],
}, () => {
  bench('client or server pre-processing over LTE', {
    ...load,
    pipeline: { data: 'images', pre: processor('image', { size: 224 }), post: processor('topK', { k: 5 }) },
  })
})

describe('text classification: sentences → WordPiece → BERT-base → label', {
  model: model.zoo('bert_base', { classes: 2 }),
  backend: 'server',
  intraOpThreads: 1,
  batch: [1, 8],
  network: ['lan', 'lte'],
}, () => {
  bench('tokenised on the client', {
    ...load,
    pipeline: { data: 'sentences', pre: processor('text', { seqLen: 128 }), post: processor('topK', { k: 1, output: 'logits' }) },
  })
})
