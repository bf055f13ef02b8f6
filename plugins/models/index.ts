import { definePlugin, type ModelGenerator, type Plugin } from '../../core/plugin-api.ts'
import { onnxSymbolicDims } from '../shared/inputs/onnx-inputs.ts'
import { onnxAnalyzer } from './analysis/index.ts'
import { cnnGenerator } from './cnn.ts'
import { fcGenerator } from './fc.ts'
import { lstmGenerator } from './lstm.ts'
import { transformerGenerator } from './transformer.ts'
import { bertBase, bertLarge } from './zoo/bert.ts'
import { lstmTextclf } from './zoo/lstm-textclf.ts'
import { mobilenetV2 } from './zoo/mobilenet-v2.ts'
import { resnet18, resnet50 } from './zoo/resnet.ts'
import { vgg16 } from './zoo/vgg.ts'

/** Canonical families: hyper-parameters sweepable with arrays in model.generate(). */
export const FAMILIES: Record<string, ModelGenerator> = {
  fc: fcGenerator, cnn: cnnGenerator, lstm: lstmGenerator, transformer: transformerGenerator,
}

/** Real architectures with seeded weights: model.zoo('resnet50'). */
export const ZOO: Record<string, ModelGenerator> = {
  resnet18, resnet50, mobilenet_v2: mobilenetV2, vgg16, bert_base: bertBase, bert_large: bertLarge, lstm_textclf: lstmTextclf,
}

/** The built-in model generators (the canonical families and the zoo) and the ONNX analyzer. */
export function models(): Plugin {
  return definePlugin({ name: 'inferbench:models', generators: { ...FAMILIES, ...ZOO }, analyzers: { onnx: onnxAnalyzer }, dimReaders: { onnx: onnxSymbolicDims } })
}

export { GraphBuilder, DType } from './onnx-builder.ts'
export { buildFc, type FcParams } from './fc.ts'
