import { z } from 'zod'
import { defineGenerator } from '../define-generator.ts'
import { batchNorm, conv, convBnAct, linear, poolFlatten } from '../layers.ts'
import { DType } from '../onnx-builder.ts'

/** Sandler et al. 2018, Table 2: expansion t, output channels c, repeats n, first stride s. */
const SETTINGS: Array<[number, number, number, number]> = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
]

export const mobilenetV2 = defineGenerator({
  name: 'mobilenet_v2',
  version: 1,
  description: 'MobileNetV2 1.0 (Sandler et al. 2018; torchvision layout), input [batch, 3, imageSize, imageSize]',
  schema: z.strictObject({
    imageSize: z.number().int().min(32).max(2048).default(224),
    classes: z.number().int().min(1).max(100_000).default(1000),
  }),
  build(g, p) {
    const x = g.input('input', DType.FLOAT, ['batch', 3, p.imageSize, p.imageSize])
    let y = convBnAct(g, x, { inChannels: 3, outChannels: 32, kernel: 3, stride: 2 }, 'features.0', 'relu6')
    let inC = 32
    let index = 1
    for (const [t, c, n, s] of SETTINGS) {
      for (let i = 0; i < n; i++) {
        const stride = i === 0 ? s : 1
        const hidden = inC * t
        const stem = `features.${index++}`
        let h = y
        if (t !== 1) h = convBnAct(g, h, { inChannels: inC, outChannels: hidden, kernel: 1 }, `${stem}.expand`, 'relu6')
        h = convBnAct(g, h, { inChannels: hidden, outChannels: hidden, kernel: 3, stride, group: hidden }, `${stem}.depthwise`, 'relu6')
        h = batchNorm(g, conv(g, h, { inChannels: hidden, outChannels: c, kernel: 1 }, `${stem}.project.conv`), c, `${stem}.project.bn`)
        y = stride === 1 && inC === c ? g.op('Add', [y, h]) : h
        inC = c
      }
    }
    y = convBnAct(g, y, { inChannels: inC, outChannels: 1280, kernel: 1 }, `features.${index}`, 'relu6')
    g.node('Identity', [linear(g, poolFlatten(g, y), 1280, p.classes, 'classifier')], {}, ['output'])
    g.output('output', DType.FLOAT, ['batch', p.classes])
  },
})
