import { z } from 'zod'
import { defineGenerator } from './define-generator.ts'
import { convBnAct, conv, batchNorm, linear, poolFlatten } from './layers.ts'
import { DType } from './onnx-builder.ts'

/**
 * `cnn`: stacked residual blocks (the ResNet basic block at a fixed width). input
 * [batch, 3, imageSize, imageSize] → stem conv → `layers` × (conv-BN-ReLU-conv-BN + identity,
 * ReLU) → global average pool → linear to `classes`.
 */
export const cnnGenerator = defineGenerator({
  name: 'cnn',
  version: 1,
  description: 'stacked residual blocks: layers, channels, imageSize, kernel, classes',
  schema: z.strictObject({
    layers: z.number().int().min(1).max(500).default(4),
    channels: z.number().int().min(1).max(4096).default(64),
    imageSize: z.number().int().min(4).max(4096).default(32),
    kernel: z.number().int().min(1).max(15).refine((k) => k % 2 === 1, 'expected an odd kernel size').default(3),
    classes: z.number().int().min(1).max(100_000).default(10),
  }),
  build(g, p) {
    const x = g.input('input', DType.FLOAT, ['batch', 3, p.imageSize, p.imageSize])
    let y = convBnAct(g, x, { inChannels: 3, outChannels: p.channels, kernel: p.kernel }, 'stem', 'relu')
    for (let i = 0; i < p.layers; i++) {
      const spec = { inChannels: p.channels, outChannels: p.channels, kernel: p.kernel }
      const a = convBnAct(g, y, spec, `block${i}.a`, 'relu')
      const b = batchNorm(g, conv(g, a, spec, `block${i}.b.conv`), p.channels, `block${i}.b.bn`)
      y = g.op('Relu', [g.op('Add', [b, y])])
    }
    g.node('Identity', [linear(g, poolFlatten(g, y), p.channels, p.classes, 'head')], {}, ['output'])
    g.output('output', DType.FLOAT, ['batch', p.classes])
  },
})
