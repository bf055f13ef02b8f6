import { z } from 'zod'
import { defineGenerator } from '../define-generator.ts'
import { conv, linear, maxPool } from '../layers.ts'
import { DType } from '../onnx-builder.ts'

/** Simonyan & Zisserman 2014, configuration D: 13 conv 3×3 layers (with bias), 3 fully-connected. */
const CONFIG_D = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const

export const vgg16 = defineGenerator({
  name: 'vgg16',
  version: 1,
  description: 'VGG-16 (configuration D), input [batch, 3, 224, 224]',
  schema: z.strictObject({ classes: z.number().int().min(1).max(100_000).default(1000) }),
  build(g, p) {
    let y = g.input('input', DType.FLOAT, ['batch', 3, 224, 224])
    let inC = 3
    let i = 0
    for (const layer of CONFIG_D) {
      if (layer === 'M') {
        y = maxPool(g, y, 2, 2)
      } else {
        y = g.op('Relu', [conv(g, y, { inChannels: inC, outChannels: layer, kernel: 3, bias: true }, `features.${i++}`)])
        inC = layer
      }
    }
    y = g.op('Flatten', [y], { axis: 1 }) // [batch, 512·7·7]
    y = g.op('Relu', [linear(g, y, 512 * 7 * 7, 4096, 'classifier.0')])
    y = g.op('Relu', [linear(g, y, 4096, 4096, 'classifier.3')])
    g.node('Identity', [linear(g, y, 4096, p.classes, 'classifier.6')], {}, ['output'])
    g.output('output', DType.FLOAT, ['batch', p.classes])
  },
})
