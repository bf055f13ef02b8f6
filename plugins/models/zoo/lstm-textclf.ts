import { z } from 'zod'
import { defineGenerator } from '../define-generator.ts'
import { linear } from '../layers.ts'
import { lstmStack } from '../lstm.ts'
import { DType } from '../onnx-builder.ts'

/**
 * A classic LSTM text classifier (the Keras/PyTorch IMDB tutorial shape): token ids → embedding
 * → 2 stacked LSTM layers → last hidden state → linear to the classes.
 */
export const lstmTextclf = defineGenerator({
  name: 'lstm_textclf',
  version: 1,
  description: 'LSTM text classifier: embedding 128, 2 × LSTM 256, linear; input token ids [batch, seqLen]',
  schema: z.strictObject({
    seqLen: z.number().int().min(1).max(10_000).default(200),
    vocab: z.number().int().min(2).max(1_000_000).default(20_000),
    embedding: z.number().int().min(1).max(4096).default(128),
    hidden: z.number().int().min(1).max(4096).default(256),
    layers: z.number().int().min(1).max(16).default(2),
    classes: z.number().int().min(1).max(10_000).default(2),
  }),
  build(g, p) {
    const ids = g.input('input_ids', DType.INT64, ['batch', p.seqLen])
    const timeMajor = g.op('Transpose', [ids], { perm: [1, 0] }) // [seq, batch]
    const embedded = g.op('Gather', [g.weight('embedding', [p.vocab, p.embedding], 1), timeMajor]) // [seq, batch, emb]
    const { last } = lstmStack(g, embedded, p.embedding, p.hidden, p.layers, 'lstm')
    g.node('Identity', [linear(g, last, p.hidden, p.classes, 'classifier')], {}, ['output'])
    g.output('output', DType.FLOAT, ['batch', p.classes])
  },
})
