import { definePlugin, type Plugin } from '../../core/plugin-api.ts'
import { fcGenerator } from './fc.ts'

/** The built-in model generators. */
export function models(): Plugin {
  return definePlugin({ name: 'inferbench:models', generators: { fc: fcGenerator } })
}

export { GraphBuilder, DType, OPSET } from './onnx-builder.ts'
export { buildFc, type FcParams } from './fc.ts'
