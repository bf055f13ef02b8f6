import { z } from 'zod'
import { defineGenerator } from './define-generator.ts'
import { int64s, linear } from './layers.ts'
import { DType, type GraphBuilder } from './onnx-builder.ts'

/**
 * Stacked unidirectional LSTM layers with the ONNX LSTM operator. Input [seq, batch, inDim]
 * (the operator's own layout); returns the last layer's sequence output and final hidden state.
 */
export function lstmStack(g: GraphBuilder, x: string, inDim: number, hidden: number, layers: number, stem: string): { sequence: string; last: string } {
  let seq = x
  let fanIn = inDim
  let last = ''
  const scale = 1 / Math.sqrt(hidden)
  for (let i = 0; i < layers; i++) {
    const W = g.weight(`${stem}${i}.W`, [1, 4 * hidden, fanIn], scale)
    const R = g.weight(`${stem}${i}.R`, [1, 4 * hidden, hidden], scale)
    const B = g.weight(`${stem}${i}.B`, [1, 8 * hidden], scale)
    const [Y, Yh] = g.node('LSTM', [seq, W, R, B], { hidden_size: hidden }, 2)
    seq = g.op('Squeeze', [Y!, int64s(g, 'axis1', [1])]) // [seq, 1, batch, hidden] → [seq, batch, hidden]
    last = g.op('Squeeze', [Yh!, int64s(g, 'axis0', [0])]) // [1, batch, hidden] → [batch, hidden]
    fanIn = hidden
  }
  return { sequence: seq, last }
}

/**
 * `lstm`: stacked LSTM layers. input [batch, seqLen, inputDim] → transpose to time-major →
 * `layers` × LSTM(`hidden`) → last hidden state → linear to `outputDim`.
 */
export const lstmGenerator = defineGenerator({
  name: 'lstm',
  version: 1,
  description: 'stacked LSTM layers (ONNX LSTM op): layers, hidden, seqLen, inputDim, outputDim',
  schema: z.strictObject({
    layers: z.number().int().min(1).max(100).default(2),
    hidden: z.number().int().min(1).max(8192).default(256),
    seqLen: z.number().int().min(1).max(100_000).default(32),
    inputDim: z.number().int().min(1).max(65536).default(128),
    outputDim: z.number().int().min(1).max(100_000).default(10),
  }),
  build(g, p) {
    const x = g.input('input', DType.FLOAT, ['batch', p.seqLen, p.inputDim])
    const timeMajor = g.op('Transpose', [x], { perm: [1, 0, 2] })
    const { last } = lstmStack(g, timeMajor, p.inputDim, p.hidden, p.layers, 'lstm')
    g.node('Identity', [linear(g, last, p.hidden, p.outputDim, 'head')], {}, ['output'])
    g.output('output', DType.FLOAT, ['batch', p.outputDim])
  },
})
