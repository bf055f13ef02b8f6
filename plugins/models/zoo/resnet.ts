import { z } from 'zod'
import { defineGenerator } from '../define-generator.ts'
import { batchNorm, conv, convBnAct, linear, maxPool, poolFlatten } from '../layers.ts'
import { DType, type GraphBuilder } from '../onnx-builder.ts'

/** He et al. 2016, as torchvision builds it (v1.5: the stride on the 3×3 conv of bottlenecks). */
type BlockKind = 'basic' | 'bottleneck'

function basicBlock(g: GraphBuilder, x: string, inC: number, outC: number, stride: number, stem: string): string {
  const a = convBnAct(g, x, { inChannels: inC, outChannels: outC, kernel: 3, stride }, `${stem}.1`, 'relu')
  const b = batchNorm(g, conv(g, a, { inChannels: outC, outChannels: outC, kernel: 3 }, `${stem}.2.conv`), outC, `${stem}.2.bn`)
  return g.op('Relu', [g.op('Add', [b, shortcut(g, x, inC, outC, stride, stem)])])
}

function bottleneck(g: GraphBuilder, x: string, inC: number, width: number, stride: number, stem: string): string {
  const outC = width * 4
  const a = convBnAct(g, x, { inChannels: inC, outChannels: width, kernel: 1 }, `${stem}.1`, 'relu')
  const b = convBnAct(g, a, { inChannels: width, outChannels: width, kernel: 3, stride }, `${stem}.2`, 'relu')
  const c = batchNorm(g, conv(g, b, { inChannels: width, outChannels: outC, kernel: 1 }, `${stem}.3.conv`), outC, `${stem}.3.bn`)
  return g.op('Relu', [g.op('Add', [c, shortcut(g, x, inC, outC, stride, stem)])])
}

function shortcut(g: GraphBuilder, x: string, inC: number, outC: number, stride: number, stem: string): string {
  if (inC === outC && stride === 1) return x
  const y = conv(g, x, { inChannels: inC, outChannels: outC, kernel: 1, stride, pad: 0 }, `${stem}.downsample.conv`)
  return batchNorm(g, y, outC, `${stem}.downsample.bn`)
}

function resnet(name: string, kind: BlockKind, blocks: [number, number, number, number]) {
  return defineGenerator({
    name,
    version: 1,
    description: `${name} (He et al. 2016; torchvision layout), input [batch, 3, imageSize, imageSize]`,
    schema: z.strictObject({
      imageSize: z.number().int().min(32).max(2048).default(224),
      classes: z.number().int().min(1).max(100_000).default(1000),
    }),
    build(g, p) {
      const x = g.input('input', DType.FLOAT, ['batch', 3, p.imageSize, p.imageSize])
      let y = convBnAct(g, x, { inChannels: 3, outChannels: 64, kernel: 7, stride: 2, pad: 3 }, 'stem', 'relu')
      y = maxPool(g, y, 3, 2, 1)
      let inC = 64
      blocks.forEach((count, stage) => {
        const width = 64 << stage
        for (let i = 0; i < count; i++) {
          const stride = i === 0 && stage > 0 ? 2 : 1
          const stem = `layer${stage + 1}.${i}`
          y = kind === 'basic' ? basicBlock(g, y, inC, width, stride, stem) : bottleneck(g, y, inC, width, stride, stem)
          inC = kind === 'basic' ? width : width * 4
        }
      })
      g.node('Identity', [linear(g, poolFlatten(g, y), inC, p.classes, 'fc')], {}, ['output'])
      g.output('output', DType.FLOAT, ['batch', p.classes])
    },
  })
}

export const resnet18 = resnet('resnet18', 'basic', [2, 2, 2, 2])
export const resnet50 = resnet('resnet50', 'bottleneck', [3, 4, 6, 3])
