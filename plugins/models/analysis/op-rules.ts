import type * as OnnxTypes from 'onnx-proto'
import { broadcast, elements, type TensorInfo } from './tensors.ts'

type INodeProto = OnnxTypes.onnx.INodeProto

/**
 * Shape and cost rules per operator. FLOPs count a multiply-add as 2; `macs` counts the
 * multiply-accumulates of the dense operators (Conv, MatMul, Gemm, LSTM) as papers report them.
 * Cheap operators are approximations, stated per rule (e.g. Softmax = 3 FLOPs per element).
 */
export interface OpResult {
  outputs: TensorInfo[]
  flops: number
  macs: number
}

export type OpRule = (inputs: Array<TensorInfo | undefined>, attrs: Attrs, node: INodeProto) => OpResult

export class Attrs {
  constructor(private readonly node: INodeProto) {}
  private find(name: string) {
    return this.node.attribute?.find((a) => a.name === name)
  }
  int(name: string, fallback: number): number {
    const a = this.find(name)
    return a?.i !== undefined && a.i !== null ? Number(a.i) : fallback
  }
  ints(name: string): number[] | undefined {
    const a = this.find(name)
    return a?.ints && a.ints.length ? a.ints.map(Number) : undefined
  }
  floats(name: string): number[] | undefined {
    const a = this.find(name)
    return a?.floats && a.floats.length ? [...a.floats] : undefined
  }
  string(name: string, fallback: string): string {
    const a = this.find(name)
    return a?.s && a.s.length ? new TextDecoder().decode(a.s) : fallback
  }
}

const shapeOf = (t: TensorInfo | undefined, what: string): number[] => {
  if (!t?.shape) throw new Error(`shape of ${what} unknown`)
  return t.shape
}

const same = (flopsPerElement: number): OpRule => (inputs) => {
  const shape = shapeOf(inputs[0], 'input')
  return { outputs: [{ shape, dtype: inputs[0]!.dtype, ...(inputs[0]!.value ? { value: inputs[0]!.value } : {}) }], flops: flopsPerElement * elements(shape), macs: 0 }
}

/** Element-wise arithmetic on small constant ints (shape computations), when both sides are known. */
const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Div: (a, b) => Math.trunc(a / b),
}

const binary: OpRule = (inputs, _attrs, node) => {
  const shapes = inputs.map((t, i) => shapeOf(t, `input ${i}`))
  const shape = shapes.reduce(broadcast)
  // Where(condition, X, Y) takes its type from X.
  const dtype = node.opType === 'Where' ? inputs[1]!.dtype : inputs[0]!.dtype
  const op = ARITHMETIC[node.opType ?? '']
  const [a, b] = [inputs[0]?.value, inputs[1]?.value]
  const value = op && a && b && elements(shape) <= 64
    ? Array.from({ length: elements(shape) }, (_, i) => op(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!))
    : undefined
  return { outputs: [{ shape, dtype, ...(value && value.every(Number.isFinite) ? { value } : {}) }], flops: elements(shape), macs: 0 }
}

const matmul: OpRule = (inputs) => {
  const a = shapeOf(inputs[0], 'A')
  const b = shapeOf(inputs[1], 'B')
  const a2 = a.length === 1 ? [1, a[0]!] : a
  const b2 = b.length === 1 ? [b[0]!, 1] : b
  const [m, k] = a2.slice(-2) as [number, number]
  const [k2, n] = b2.slice(-2) as [number, number]
  if (k !== k2) throw new Error(`MatMul inner dimensions differ: [${a}] × [${b}]`)
  const batch = broadcast(a2.slice(0, -2), b2.slice(0, -2))
  let shape = [...batch, m, n]
  if (a.length === 1) shape = [...batch, n]
  if (b.length === 1) shape = shape.slice(0, -1)
  const macs = elements(batch) * m * k * n
  return { outputs: [{ shape, dtype: inputs[0]!.dtype }], flops: 2 * macs, macs }
}

const gemm: OpRule = (inputs, attrs) => {
  const a = shapeOf(inputs[0], 'A')
  const b = shapeOf(inputs[1], 'B')
  const [m, k] = attrs.int('transA', 0) ? [a[1]!, a[0]!] : [a[0]!, a[1]!]
  const n = attrs.int('transB', 0) ? b[0]! : b[1]!
  const macs = m * k * n
  return { outputs: [{ shape: [m, n], dtype: inputs[0]!.dtype }], flops: 2 * macs + (inputs[2] ? m * n : 0), macs }
}

/** Output spatial size of a convolution or pooling window, with explicit or SAME padding. */
function window(inputs: number[], kernel: number[], attrs: Attrs): number[] {
  const strides = attrs.ints('strides') ?? kernel.map(() => 1)
  const dilations = attrs.ints('dilations') ?? kernel.map(() => 1)
  const autoPad = attrs.string('auto_pad', 'NOTSET')
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return inputs.map((x, i) => Math.ceil(x / strides[i]!))
  const pads = autoPad === 'VALID' ? kernel.flatMap(() => [0]).concat(kernel.map(() => 0)) : attrs.ints('pads') ?? kernel.flatMap(() => [0, 0])
  const ceil = attrs.int('ceil_mode', 0) ? Math.ceil : Math.floor
  return inputs.map((x, i) => ceil((x + pads[i]! + pads[i + kernel.length]! - dilations[i]! * (kernel[i]! - 1) - 1) / strides[i]! + 1))
}

const conv: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'X')
  const w = shapeOf(inputs[1], 'W')
  const [n, , ...spatial] = x as [number, number, ...number[]]
  const [outC, inPerGroup, ...kernel] = w as [number, number, ...number[]]
  const out = window(spatial, kernel, attrs)
  const outElements = n * outC * elements(out)
  const macs = outElements * inPerGroup * elements(kernel)
  return { outputs: [{ shape: [n, outC, ...out], dtype: inputs[0]!.dtype }], flops: 2 * macs + (inputs[2] ? outElements : 0), macs }
}

const pool: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'X')
  const kernel = attrs.ints('kernel_shape') ?? []
  const out = [x[0]!, x[1]!, ...window(x.slice(2), kernel, attrs)]
  return { outputs: [{ shape: out, dtype: inputs[0]!.dtype }], flops: elements(out) * elements(kernel), macs: 0 }
}

const globalPool: OpRule = (inputs) => {
  const x = shapeOf(inputs[0], 'X')
  return { outputs: [{ shape: [x[0]!, x[1]!, ...x.slice(2).map(() => 1)], dtype: inputs[0]!.dtype }], flops: elements(x), macs: 0 }
}

const normAxis = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis)

const flatten: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'input')
  const axis = normAxis(attrs.int('axis', 1), x.length)
  return { outputs: [{ shape: [elements(x.slice(0, axis)), elements(x.slice(axis))], dtype: inputs[0]!.dtype }], flops: 0, macs: 0 }
}

const reshapeRule: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'data')
  const target = inputs[1]?.value
  if (!target) throw new Error('target shape is not a constant')
  const allowZero = attrs.int('allowzero', 0)
  const shape = target.map((d, i) => (d === 0 && !allowZero ? x[i]! : d))
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1)
  const resolved = shape.map((d) => (d === -1 ? elements(x) / known : d))
  return { outputs: [{ shape: resolved, dtype: inputs[0]!.dtype }], flops: 0, macs: 0 }
}

const transpose: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'data')
  const perm = attrs.ints('perm') ?? x.map((_, i) => x.length - 1 - i)
  return { outputs: [{ shape: perm.map((p) => x[p]!), dtype: inputs[0]!.dtype }], flops: 0, macs: 0 }
}

/** Squeeze/Unsqueeze axes: an input from opset 13, an attribute before. */
const axesOf = (inputs: Array<TensorInfo | undefined>, attrs: Attrs): number[] | undefined => inputs[1]?.value ?? attrs.ints('axes')

const squeeze: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'data')
  const axes = (axesOf(inputs, attrs) ?? x.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.length))
  return { outputs: [{ shape: x.filter((_, i) => !axes.includes(i)), dtype: inputs[0]!.dtype, ...(inputs[0]!.value ? { value: inputs[0]!.value } : {}) }], flops: 0, macs: 0 }
}

const unsqueeze: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'data')
  const rank = x.length + (axesOf(inputs, attrs)?.length ?? 0)
  const axes = (axesOf(inputs, attrs) ?? []).map((a) => normAxis(a, rank))
  const out: number[] = []
  let j = 0
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[j++]!)
  return { outputs: [{ shape: out, dtype: inputs[0]!.dtype, ...(inputs[0]!.value ? { value: inputs[0]!.value } : {}) }], flops: 0, macs: 0 }
}

const gather: OpRule = (inputs, attrs) => {
  const data = shapeOf(inputs[0], 'data')
  const indices = shapeOf(inputs[1], 'indices')
  const axis = normAxis(attrs.int('axis', 0), data.length)
  // Shape -> Gather picks dims of a known shape: keep the values for the Reshape/Resize downstream.
  const from = inputs[0]!.value
  const at = inputs[1]!.value
  const value = data.length === 1 && from && at ? at.map((i) => from[i < 0 ? i + from.length : i]!) : undefined
  return {
    outputs: [{ shape: [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)], dtype: inputs[0]!.dtype, ...(value ? { value } : {}) }],
    flops: 0, macs: 0,
  }
}

/** Slice: starts/ends/axes/steps are inputs from opset 10, attributes before (opset 9 exports use both). */
const slice: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'data')
  const [starts, ends] = [inputs[1]?.value ?? attrs.ints('starts'), inputs[2]?.value ?? attrs.ints('ends')]
  if (!starts || !ends) throw new Error('starts/ends are not constants')
  const axes = inputs[3]?.value ?? attrs.ints('axes') ?? starts.map((_, i) => i)
  const steps = inputs[4]?.value ?? starts.map(() => 1)
  const out = [...x]
  axes.forEach((a, i) => {
    const axis = normAxis(a, x.length)
    const dim = x[axis]!
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim)
    out[axis] = Math.max(0, Math.ceil((clamp(ends[i]!) - clamp(starts[i]!)) / steps[i]!))
  })
  const from = inputs[0]!.value
  let value: number[] | undefined
  if (from && x.length === 1 && steps[0] === 1) {
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + from.length : v, 0), from.length)
    value = from.slice(clamp(starts[0]!), clamp(ends[0]!))
  }
  return { outputs: [{ shape: out, dtype: inputs[0]!.dtype, ...(value ? { value } : {}) }], flops: 0, macs: 0 }
}

const concat: OpRule = (inputs, attrs) => {
  const shapes = inputs.map((t, i) => shapeOf(t, `input ${i}`))
  const axis = normAxis(attrs.int('axis', 0), shapes[0]!.length)
  const out = [...shapes[0]!]
  out[axis] = shapes.reduce((s, sh) => s + sh[axis]!, 0)
  const value = out.length === 1 && inputs.every((t) => t!.value) ? inputs.flatMap((t) => t!.value!) : undefined
  return { outputs: [{ shape: out, dtype: inputs[0]!.dtype, ...(value ? { value } : {}) }], flops: 0, macs: 0 }
}

/**
 * LSTM, per step, batch row and direction: the gate matmuls 4H·(I+H) MACs, plus 16·H for the
 * bias adds, gate activations and cell update (an approximation).
 */
const lstm: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'X')
  const w = shapeOf(inputs[1], 'W')
  const layout = attrs.int('layout', 0)
  const [seq, batch, inDim] = layout ? [x[1]!, x[0]!, x[2]!] : [x[0]!, x[1]!, x[2]!]
  const dirs = w[0]!
  const hidden = attrs.int('hidden_size', w[1]! / 4)
  const macs = seq * batch * dirs * 4 * hidden * (inDim + hidden)
  const dtype = inputs[0]!.dtype
  const y = layout ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]
  const state = layout ? [batch, dirs, hidden] : [dirs, batch, hidden]
  return { outputs: [{ shape: y, dtype }, { shape: state, dtype }, { shape: state, dtype }], flops: 2 * macs + seq * batch * dirs * 16 * hidden, macs }
}

const reduce: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'data')
  const axes = (inputs[1]?.value ?? attrs.ints('axes') ?? x.map((_, i) => i)).map((a) => normAxis(a, x.length))
  const keep = attrs.int('keepdims', 1)
  const out = keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))
  return { outputs: [{ shape: out, dtype: inputs[0]!.dtype }], flops: elements(x), macs: 0 }
}

const shapeOp: OpRule = (inputs) => {
  const x = shapeOf(inputs[0], 'data')
  return { outputs: [{ shape: [x.length], dtype: 7, value: x }], flops: 0, macs: 0 }
}

const cast: OpRule = (inputs, attrs) => {
  const shape = shapeOf(inputs[0], 'input')
  return { outputs: [{ shape, dtype: attrs.int('to', inputs[0]!.dtype), ...(inputs[0]!.value ? { value: inputs[0]!.value } : {}) }], flops: 0, macs: 0 }
}

/**
 * Resize (opset 11+: X, roi, scales, sizes; opset 10: X, scales): output from `sizes` or
 * `scales`. FLOPs per output element: 1 for nearest, 4 for (bi)linear/cubic (an approximation).
 */
const resize: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'X')
  const sizes = inputs[3]?.value
  // Upsample (opset 9) and opset-10 Resize take scales as input 1; opset 7 Upsample as an attribute.
  const scales = inputs.length === 2 ? inputs[1]?.floats : inputs.length === 1 ? attrs.floats('scales') : inputs[2]?.floats
  let out: number[]
  if (sizes && sizes.length === x.length) out = sizes
  else if (scales && scales.length === x.length) out = x.map((d, i) => Math.floor(d * scales[i]!))
  else throw new Error('neither sizes nor scales is a constant')
  const perElement = attrs.string('mode', 'nearest') === 'nearest' ? 1 : 4
  return { outputs: [{ shape: out, dtype: inputs[0]!.dtype }], flops: perElement * elements(out), macs: 0 }
}

/** ConvTranspose: W is [C_in, C_out / group, k...]; every input element scatters into C_out/group × k outputs. */
const convTranspose: OpRule = (inputs, attrs) => {
  const x = shapeOf(inputs[0], 'X')
  const w = shapeOf(inputs[1], 'W')
  const [n, inC, ...spatial] = x as [number, number, ...number[]]
  const [, outPerGroup, ...kernel] = w as [number, number, ...number[]]
  const group = attrs.int('group', 1)
  const strides = attrs.ints('strides') ?? kernel.map(() => 1)
  const dilations = attrs.ints('dilations') ?? kernel.map(() => 1)
  const pads = attrs.ints('pads') ?? kernel.flatMap(() => [0, 0])
  const outputPadding = attrs.ints('output_padding') ?? kernel.map(() => 0)
  const out = attrs.ints('output_shape') ?? spatial.map((d, i) =>
    strides[i]! * (d - 1) + outputPadding[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - pads[i]! - pads[i + kernel.length]!)
  const macs = n * inC * elements(spatial) * outPerGroup * elements(kernel)
  const outElements = n * outPerGroup * group * elements(out)
  return { outputs: [{ shape: [n, outPerGroup * group, ...out], dtype: inputs[0]!.dtype }], flops: 2 * macs + (inputs[2] ? outElements : 0), macs }
}

export const OP_RULES: Record<string, OpRule> = {
  // Elementwise, 1 FLOP per output element (activations counted as one operation each).
  Relu: same(1), Sigmoid: same(1), Tanh: same(1), Erf: same(1), Sqrt: same(1), Exp: same(1), Log: same(1),
  Neg: same(1), Abs: same(1), Reciprocal: same(1), LeakyRelu: same(1), HardSigmoid: same(1), HardSwish: same(1),
  Softplus: same(1), Clip: same(1), Gelu: same(1),
  Identity: same(0), Dropout: same(0),
  Add: binary, Sub: binary, Mul: binary, Div: binary, Pow: binary, Max: binary, Min: binary, Where: binary,
  Equal: binary, Less: binary, Greater: binary,
  MatMul: matmul, Gemm: gemm, Conv: conv,
  // Softmax: exponent, sum and division per element.
  Softmax: same(3), LogSoftmax: same(3),
  // Inference BatchNormalization is a per-channel scale and shift.
  BatchNormalization: same(2),
  // LayerNormalization: mean, variance (2), normalise (2), scale and shift (2) per element.
  LayerNormalization: same(7),
  MaxPool: pool, AveragePool: pool, GlobalAveragePool: globalPool, GlobalMaxPool: globalPool,
  Flatten: flatten, Reshape: reshapeRule, Transpose: transpose, Squeeze: squeeze, Unsqueeze: unsqueeze,
  Gather: gather, Slice: slice, Concat: concat, LSTM: lstm,
  ReduceMean: reduce, ReduceSum: reduce, ReduceMax: reduce,
  Shape: shapeOp, Cast: cast, Resize: resize, Upsample: resize, ConvTranspose: convTranspose,
}
