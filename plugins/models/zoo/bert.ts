import { z } from 'zod'
import { defineGenerator } from '../define-generator.ts'
import { layerNorm, linear, int64s } from '../layers.ts'
import { DType } from '../onnx-builder.ts'
import { additiveMask, embed, encoderBlock } from '../transformer.ts'

/** Devlin et al. 2018, as Hugging Face's BertModel: embeddings, encoder, pooler. */
function bert(name: string, layers: number, hidden: number, heads: number) {
  return defineGenerator({
    name,
    version: 1,
    description: `${name} (L=${layers}, H=${hidden}, A=${heads}), inputs input_ids, attention_mask, token_type_ids [batch, seqLen]; classes: n adds a classifier (logits [batch, n])`,
    schema: z.strictObject({
      seqLen: z.number().int().min(1).max(512).default(128),
      vocab: z.number().int().min(2).max(1_000_000).default(30522),
      /** A sequence-classification head on the pooled output (BertForSequenceClassification): a 'logits' [batch, classes] output. */
      classes: z.number().int().min(1).max(100_000).optional(),
    }),
    build(g, p) {
      const dims = ['batch', p.seqLen]
      const ids = g.input('input_ids', DType.INT64, dims)
      const mask = g.input('attention_mask', DType.INT64, dims)
      const types = g.input('token_type_ids', DType.INT64, dims)
      const tokens = embed(g, ids, p.vocab, 512, p.seqLen, hidden, 'embeddings')
      const withTypes = g.op('Add', [tokens, g.op('Gather', [g.weight('embeddings.token_type_embeddings', [2, hidden], 0.02), types])])
      let x = layerNorm(g, withTypes, hidden, 'embeddings.norm')
      const additive = additiveMask(g, mask)
      for (let i = 0; i < layers; i++) x = encoderBlock(g, x, additive, { hidden, heads, ffn: hidden * 4 }, `encoder.layer.${i}`)
      g.node('Identity', [x], {}, ['last_hidden_state'])
      // Pooler: tanh(dense(hidden state of the first token)).
      const first = g.op('Gather', [x, int64s(g, 'first_token', [0])], { axis: 1 })
      const pooled = g.op('Tanh', [linear(g, g.op('Flatten', [first], { axis: 1 }), hidden, hidden, 'pooler.dense')])
      g.node('Identity', [pooled], {}, ['pooler_output'])
      g.output('last_hidden_state', DType.FLOAT, ['batch', p.seqLen, hidden])
      g.output('pooler_output', DType.FLOAT, ['batch', hidden])
      if (p.classes !== undefined) {
        g.node('Identity', [linear(g, pooled, hidden, p.classes, 'classifier')], {}, ['logits'])
        g.output('logits', DType.FLOAT, ['batch', p.classes])
      }
    },
  })
}

export const bertBase = bert('bert_base', 12, 768, 12)
export const bertLarge = bert('bert_large', 24, 1024, 16)
