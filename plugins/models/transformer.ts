import { z } from 'zod'
import { activate } from './activation.ts'
import { defineGenerator } from './define-generator.ts'
import { int64s, layerNorm, linear, reshape } from './layers.ts'
import { DType, type GraphBuilder } from './onnx-builder.ts'

export interface EncoderSpec {
  hidden: number
  heads: number
  ffn: number
  layerNormEpsilon?: number
}

/**
 * One post-LayerNorm Transformer encoder block (BERT's): multi-head self-attention with an
 * optional additive mask [batch, 1, 1, seq], residual + LayerNorm, GELU feed-forward, residual
 * + LayerNorm. x: [batch, seq, hidden].
 */
export function encoderBlock(g: GraphBuilder, x: string, mask: string | undefined, spec: EncoderSpec, stem: string): string {
  const { hidden, heads, ffn } = spec
  if (hidden % heads !== 0) throw new Error(`hidden (${hidden}) must be a multiple of heads (${heads})`)
  const headDim = hidden / heads
  const split = (t: string, perm: number[]) => g.op('Transpose', [reshape(g, t, [0, -1, heads, headDim])], { perm })
  const q = split(linear(g, x, hidden, hidden, `${stem}.attention.query`), [0, 2, 1, 3]) // [B, h, S, d]
  const k = split(linear(g, x, hidden, hidden, `${stem}.attention.key`), [0, 2, 3, 1]) // [B, h, d, S]
  const v = split(linear(g, x, hidden, hidden, `${stem}.attention.value`), [0, 2, 1, 3]) // [B, h, S, d]
  let scores = g.op('Div', [g.op('MatMul', [q, k]), g.constant('sqrt_head_dim', [], new Float32Array([Math.sqrt(headDim)]))])
  if (mask) scores = g.op('Add', [scores, mask])
  const probs = g.op('Softmax', [scores], { axis: -1 })
  const context = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] })
  const merged = reshape(g, context, [0, -1, hidden])
  const eps = spec.layerNormEpsilon ?? 1e-12
  const attended = layerNorm(g, g.op('Add', [x, linear(g, merged, hidden, hidden, `${stem}.attention.output`)]), hidden, `${stem}.attention.norm`, eps)
  const inner = activate(g, linear(g, attended, hidden, ffn, `${stem}.intermediate`), 'gelu')
  return layerNorm(g, g.op('Add', [attended, linear(g, inner, ffn, hidden, `${stem}.output`)]), hidden, `${stem}.output.norm`, eps)
}

/** [batch, seq] int64 attention mask (1 = attend) → additive float mask [batch, 1, 1, seq]. */
export function additiveMask(g: GraphBuilder, mask: string): string {
  const asFloat = g.op('Cast', [mask], { to: DType.FLOAT })
  const inverted = g.op('Sub', [g.constant('one', [], new Float32Array([1])), asFloat])
  const bias = g.op('Mul', [inverted, g.constant('mask_value', [], new Float32Array([-10000]))])
  return g.op('Unsqueeze', [bias, int64s(g, 'mask_axes', [1, 2])])
}

/** Word embeddings plus learned position embeddings for a fixed sequence length. */
export function embed(g: GraphBuilder, ids: string, vocab: number, maxPositions: number, seqLen: number, hidden: number, stem: string): string {
  const words = g.op('Gather', [g.weight(`${stem}.word_embeddings`, [vocab, hidden], 0.02), ids])
  const table = g.weight(`${stem}.position_embeddings`, [maxPositions, hidden], 0.02)
  const positions = g.op('Slice', [table, int64s(g, 'starts', [0]), int64s(g, 'ends', [seqLen]), int64s(g, 'axes', [0])])
  return g.op('Add', [words, positions])
}

/**
 * `transformer`: token ids [batch, seqLen] → embeddings + LayerNorm → `layers` encoder blocks
 * (`hidden`, `heads`, `ffn`) → hidden states [batch, seqLen, hidden].
 */
export const transformerGenerator = defineGenerator({
  name: 'transformer',
  version: 1,
  description: 'stacked Transformer encoder blocks: layers, hidden, heads, ffn, seqLen, vocab',
  schema: z.strictObject({
    layers: z.number().int().min(1).max(200).default(4),
    hidden: z.number().int().min(1).max(16384).default(256),
    heads: z.number().int().min(1).max(256).default(4),
    ffn: z.number().int().min(1).max(65536).default(1024),
    seqLen: z.number().int().min(1).max(65536).default(128),
    vocab: z.number().int().min(2).max(1_000_000).default(30522),
  }).refine((p) => p.hidden % p.heads === 0, { message: 'hidden must be a multiple of heads', path: ['heads'] }),
  build(g, p) {
    const ids = g.input('input_ids', DType.INT64, ['batch', p.seqLen])
    let x = layerNorm(g, embed(g, ids, p.vocab, p.seqLen, p.seqLen, p.hidden, 'embeddings'), p.hidden, 'embeddings.norm')
    for (let i = 0; i < p.layers; i++) x = encoderBlock(g, x, undefined, p, `layer${i}`)
    g.node('Identity', [x], {}, ['last_hidden_state'])
    g.output('last_hidden_state', DType.FLOAT, ['batch', p.seqLen, p.hidden])
  },
})
