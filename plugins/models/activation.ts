import type { GraphBuilder } from './onnx-builder.ts'

export const ACTIVATIONS = ['relu', 'gelu', 'tanh', 'sigmoid', 'none'] as const
export type Activation = (typeof ACTIVATIONS)[number]

/**
 * Applies an activation. GELU is written as 0.5·x·(1 + erf(x/√2)) because the Gelu operator only
 * exists from opset 20; onnxruntime fuses this pattern back into one kernel.
 */
export function activate(g: GraphBuilder, x: string, activation: Activation): string {
  switch (activation) {
    case 'relu': return g.op('Relu', [x])
    case 'tanh': return g.op('Tanh', [x])
    case 'sigmoid': return g.op('Sigmoid', [x])
    case 'none': return x
    case 'gelu': {
      const scaled = g.op('Div', [x, g.constant('sqrt2', [], new Float32Array([Math.SQRT2]))])
      const erf = g.op('Erf', [scaled])
      const onePlus = g.op('Add', [erf, g.constant('one', [], new Float32Array([1]))])
      const half = g.op('Mul', [x, g.constant('half', [], new Float32Array([0.5]))])
      return g.op('Mul', [half, onePlus])
    }
  }
}
