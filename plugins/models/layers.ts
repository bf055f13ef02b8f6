import type { Activation } from './activation.ts'
import { activate } from './activation.ts'
import type { GraphBuilder } from './onnx-builder.ts'

/**
 * Building blocks shared by the generators and the zoo, each the usual PyTorch layer written as
 * ONNX nodes. Weights are uniform(±1/√fan_in), like PyTorch's default initialisation.
 */

/** y = x·W + b over the last axis; works for [batch, in] and [batch, seq, in]. */
export function linear(g: GraphBuilder, x: string, inDim: number, outDim: number, stem: string, bias = true): string {
  const scale = 1 / Math.sqrt(inDim)
  const y = g.op('MatMul', [x, g.weight(`${stem}.weight`, [inDim, outDim], scale)])
  return bias ? g.op('Add', [y, g.weight(`${stem}.bias`, [outDim], scale)]) : y
}

export interface ConvSpec {
  inChannels: number
  outChannels: number
  kernel: number
  stride?: number
  /** Default: "same" padding for odd kernels, kernel >> 1. */
  pad?: number
  group?: number
  bias?: boolean
}

export function conv(g: GraphBuilder, x: string, spec: ConvSpec, stem: string): string {
  const { inChannels, outChannels, kernel } = spec
  const group = spec.group ?? 1
  const pad = spec.pad ?? kernel >> 1
  const fanIn = (inChannels / group) * kernel * kernel
  const inputs = [x, g.weight(`${stem}.weight`, [outChannels, inChannels / group, kernel, kernel], 1 / Math.sqrt(fanIn))]
  if (spec.bias) inputs.push(g.weight(`${stem}.bias`, [outChannels], 1 / Math.sqrt(fanIn)))
  return g.op('Conv', inputs, {
    kernel_shape: [kernel, kernel], strides: [spec.stride ?? 1, spec.stride ?? 1], pads: [pad, pad, pad, pad], group,
  })
}

/** Inference-mode batch norm: scale and shift near identity, running mean 0 and variance 1. */
export function batchNorm(g: GraphBuilder, x: string, channels: number, stem: string): string {
  const ones = new Float32Array(channels).fill(1)
  const scale = g.constant(`${stem}.weight`, [channels], ones)
  const shift = g.constant(`${stem}.bias`, [channels], new Float32Array(channels))
  const mean = g.constant(`${stem}.running_mean`, [channels], new Float32Array(channels))
  const variance = g.constant(`${stem}.running_var`, [channels], ones)
  return g.op('BatchNormalization', [x, scale, shift, mean, variance], { epsilon: { float: 1e-5 } })
}

export function layerNorm(g: GraphBuilder, x: string, dim: number, stem: string, epsilon = 1e-12): string {
  const scale = g.constant(`${stem}.weight`, [dim], new Float32Array(dim).fill(1))
  const shift = g.constant(`${stem}.bias`, [dim], new Float32Array(dim))
  return g.op('LayerNormalization', [x, scale, shift], { axis: -1, epsilon: { float: epsilon } })
}

export function relu6(g: GraphBuilder, x: string): string {
  return g.op('Clip', [x, g.constant('zero', [], new Float32Array([0])), g.constant('six', [], new Float32Array([6]))])
}

export function convBnAct(g: GraphBuilder, x: string, spec: ConvSpec, stem: string, act: Activation | 'relu6'): string {
  const y = batchNorm(g, conv(g, x, spec, `${stem}.conv`), spec.outChannels, `${stem}.bn`)
  return act === 'relu6' ? relu6(g, y) : activate(g, y, act)
}

export function maxPool(g: GraphBuilder, x: string, kernel: number, stride: number, pad = 0): string {
  return g.op('MaxPool', [x], { kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad] })
}

/** Global average pool then flatten: [N, C, H, W] → [N, C]. */
export function poolFlatten(g: GraphBuilder, x: string): string {
  return g.op('Flatten', [g.op('GlobalAveragePool', [x])], { axis: 1 })
}

/** A constant int64 shape or axes tensor. */
export function int64s(g: GraphBuilder, stem: string, values: number[]): string {
  return g.constant(stem, [values.length], BigInt64Array.from(values.map(BigInt)))
}

export function reshape(g: GraphBuilder, x: string, shape: number[]): string {
  return g.op('Reshape', [x, int64s(g, 'shape', shape)])
}
