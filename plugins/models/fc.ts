import { z } from 'zod'
import { seedFromString, stableStringify } from '../../core/plugin-api.ts'
import { ACTIVATIONS, activate } from './activation.ts'
import { defineGenerator } from './define-generator.ts'
import { linear } from './layers.ts'
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

function addFc(g: GraphBuilder, p: FcParams): void {
  let x = g.input('input', DType.FLOAT, ['batch', p.inputDim])
  let fanIn = p.inputDim
  for (let i = 0; i < p.layers; i++) {
    x = activate(g, linear(g, x, fanIn, p.width, `fc${i}`), p.activation)
    fanIn = p.width
  }
  g.node('Identity', [linear(g, x, fanIn, p.outputDim, 'head')], {}, ['output'])
  g.output('output', DType.FLOAT, ['batch', p.outputDim])
}

/**
 * `fc`: a multi-layer perceptron. input [batch, inputDim] → `layers` × (linear to `width` +
 * activation) → linear to [batch, outputDim].
 */
export const fcGenerator = defineGenerator({
  name: 'fc', version: 2, schema: fcSchema, build: addFc,
  description: 'stacked fully-connected layers (MLP): layers, width, inputDim, outputDim, activation',
})

/** The fc model's bytes for a full parameter set, for code that needs the model outside a bench. */
export function buildFc(p: FcParams, options: { weights?: boolean } = {}): Uint8Array {
  const g = new GraphBuilder('fc', seedFromString(`fc:${stableStringify(p)}`), options)
  addFc(g, p)
  return g.build(`fc ${stableStringify(p)}`)
}
