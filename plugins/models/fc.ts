import { z } from 'zod'
import { InferbenchError, seedFromString, stableStringify, zodIssuesToMessage, type ModelGenerator } from '../../core/plugin-api.ts'
import { ACTIVATIONS, activate } from './activation.ts'
import { DType, GraphBuilder } from './onnx-builder.ts'

const fcSchema = z.strictObject({
  /** Hidden fully-connected layers, each `width` wide and followed by the activation. */
  layers: z.number().int().min(1).max(1000).default(4),
  width: z.number().int().min(1).max(65536).default(512),
  inputDim: z.number().int().min(1).max(1 << 20).default(512),
  /** Width of the final (output) projection, e.g. the number of classes. */
  outputDim: z.number().int().min(1).max(1 << 20).default(10),
  activation: z.enum(ACTIVATIONS).default('relu'),
})

export type FcParams = z.output<typeof fcSchema>

/**
 * `fc`: a multi-layer perceptron. input [batch, inputDim] → `layers` × (Gemm to `width` +
 * activation) → Gemm to [batch, outputDim]. Weights are seeded uniform(±1/√fan_in).
 */
export const fcGenerator: ModelGenerator = {
  version: 1,
  description: 'stacked fully-connected layers (MLP): layers, width, inputDim, outputDim, activation',
  normalize(params) {
    const result = fcSchema.safeParse(params)
    if (!result.success) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `model.generate('fc'): ${zodIssuesToMessage(result.error)}`)
    return result.data
  },
  generate(params) {
    return buildFc(params as FcParams)
  },
}

export function buildFc(p: FcParams): Uint8Array {
  const g = new GraphBuilder('fc', seedFromString(stableStringify(p)))
  let x = g.input('input', DType.FLOAT, ['batch', p.inputDim])
  let fanIn = p.inputDim
  for (let i = 0; i < p.layers; i++) {
    const scale = 1 / Math.sqrt(fanIn)
    const w = g.weight(`fc${i}.weight`, [fanIn, p.width], scale)
    const b = g.weight(`fc${i}.bias`, [p.width], scale)
    x = activate(g, g.op('Gemm', [x, w, b]), p.activation)
    fanIn = p.width
  }
  const scale = 1 / Math.sqrt(fanIn)
  const w = g.weight('head.weight', [fanIn, p.outputDim], scale)
  const b = g.weight('head.bias', [p.outputDim], scale)
  g.node('Gemm', [x, w, b], {}, ['output'])
  g.output('output', DType.FLOAT, ['batch', p.outputDim])
  return g.build(`fc ${stableStringify(p)}`)
}
