import onnxProto from 'onnx-proto'
import type * as OnnxTypes from 'onnx-proto'
import { Attrs, OP_RULES } from './op-rules.ts'
import { bytesPerElement, elements, isFloatType, smallFloatValues, smallIntValues, tensorBytes, type TensorInfo } from './tensors.ts'

const { onnx } = onnxProto

export interface OpTypeCost {
  count: number
  flops: number
  macs: number
  /** Bytes read and written by these nodes, weights included, as if nothing stayed in cache. */
  bytes: number
}

export interface ModelAnalysis {
  params: number
  weightBytes: number
  /** FLOPs of one inference at the given input shapes (a multiply-add counts 2). */
  flops: number
  /** Multiply-accumulates of Conv, MatMul, Gemm and LSTM: the figure papers publish. */
  macs: number
  /** Memory traffic: every node's inputs and outputs, an upper bound without cache reuse. */
  bytes: number
  /** FLOPs per byte of memory traffic, for the roofline. */
  intensity: number
  inputs: Array<{ name: string; shape: number[] }>
  perOp: Record<string, OpTypeCost>
  /** Nodes that could not be counted, with why: never silently zero. */
  uncounted: Array<{ op: string; node: string; reason: string }>
}

export interface AnalysisShapes {
  batch: number
  /** Bindings for symbolic input dimensions by name (e.g. { seqLen: 128 }). */
  dims?: Record<string, number>
}

/** Static analysis of a serialised ONNX model at concrete input shapes. */
export function analyzeOnnx(bytes: Uint8Array, shapes: AnalysisShapes): ModelAnalysis {
  return analyzeModel(onnx.ModelProto.decode(bytes), shapes)
}

export function analyzeModel(model: OnnxTypes.onnx.IModelProto, shapes: AnalysisShapes): ModelAnalysis {
  const graph = model.graph ?? {}
  const values = new Map<string, TensorInfo>()
  let params = 0
  let weightBytes = 0
  const initializerNames = new Set<string>()
  for (const t of graph.initializer ?? []) {
    const shape = (t.dims ?? []).map(Number)
    const dtype = t.dataType ?? 1
    const value = smallIntValues(t)
    const floats = smallFloatValues(t)
    values.set(t.name ?? '', { shape, dtype, ...(value ? { value } : {}), ...(floats ? { floats } : {}) })
    initializerNames.add(t.name ?? '')
    // Parameters are the floating-point tensors; int tensors are shapes, axes and indices.
    if (isFloatType(dtype)) {
      params += elements(shape)
      weightBytes += elements(shape) * bytesPerElement(dtype)
    }
  }
  const inputs: ModelAnalysis['inputs'] = []
  for (const input of graph.input ?? []) {
    if (initializerNames.has(input.name ?? '')) continue
    const tensorType = input.type?.tensorType
    const dims = tensorType?.shape?.dim ?? []
    const shape = dims.map((d, axis) => bindDim(d, axis, shapes))
    const known = shape.every((d): d is number => d !== undefined)
    values.set(input.name ?? '', { dtype: tensorType?.elemType ?? 1, ...(known ? { shape } : {}) })
    if (known) inputs.push({ name: input.name ?? '', shape })
  }

  const perOp: Record<string, OpTypeCost> = {}
  const uncounted: ModelAnalysis['uncounted'] = []
  let flops = 0
  let macs = 0
  let traffic = 0
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '?'
    const nodeName = node.name || (node.output?.[0] ?? '?')
    if (op === 'Constant') {
      const constant = constantValue(node)
      if (constant) {
        values.set(node.output?.[0] ?? '', constant.info)
        // Converters (paddle2onnx, some tf2onnx exports) store weights as Constant nodes, not initializers.
        if (constant.weight) {
          params += elements(constant.info.shape!)
          weightBytes += elements(constant.info.shape!) * bytesPerElement(constant.info.dtype)
        }
      }
      continue
    }
    const rule = OP_RULES[op]
    const ins = (node.input ?? []).map((name) => (name ? values.get(name) : undefined))
    if (!rule) {
      uncounted.push({ op, node: nodeName, reason: `no rule for operator ${node.domain ? `${node.domain}.` : ''}${op}` })
      continue
    }
    try {
      const result = rule(ins, new Attrs(node), node)
      node.output?.forEach((name, i) => { if (name && result.outputs[i]) values.set(name, result.outputs[i]!) })
      const bytes = ins.reduce((s, t) => s + tensorBytes(t), 0) + result.outputs.reduce((s, t) => s + tensorBytes(t), 0)
      const cost = (perOp[op] ??= { count: 0, flops: 0, macs: 0, bytes: 0 })
      cost.count++
      cost.flops += result.flops
      cost.macs += result.macs
      cost.bytes += bytes
      flops += result.flops
      macs += result.macs
      traffic += bytes
    } catch (error) {
      uncounted.push({ op, node: nodeName, reason: (error as Error).message })
    }
  }
  return { params, weightBytes, flops, macs, bytes: traffic, intensity: traffic > 0 ? flops / traffic : 0, inputs, perOp, uncounted }
}

/** A Constant node's output: from its `value` tensor, or the scalar/list attributes of opset 12+. */
function constantValue(node: OnnxTypes.onnx.INodeProto): { info: TensorInfo; weight: boolean } | undefined {
  const attr = node.attribute?.[0]
  if (!attr) return undefined
  if (attr.name === 'value' && attr.t) {
    const t = attr.t
    const shape = (t.dims ?? []).map(Number)
    const dtype = t.dataType ?? 1
    const value = smallIntValues(t)
    const floats = smallFloatValues(t)
    return { info: { shape, dtype, ...(value ? { value } : {}), ...(floats ? { floats } : {}) }, weight: isFloatType(dtype) }
  }
  if (attr.name === 'value_int') return { info: { shape: [], dtype: 7, value: [Number(attr.i ?? 0)] }, weight: false }
  if (attr.name === 'value_ints') return { info: { shape: [attr.ints?.length ?? 0], dtype: 7, value: (attr.ints ?? []).map(Number) }, weight: false }
  if (attr.name === 'value_float') return { info: { shape: [], dtype: 1, floats: [attr.f ?? 0] }, weight: true }
  if (attr.name === 'value_floats') return { info: { shape: [attr.floats?.length ?? 0], dtype: 1, floats: [...(attr.floats ?? [])] }, weight: true }
  return undefined
}

function bindDim(d: OnnxTypes.onnx.TensorShapeProto.IDimension, axis: number, shapes: AnalysisShapes): number | undefined {
  if (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0) return Number(d.dimValue)
  if (d.dimParam && shapes.dims?.[d.dimParam] !== undefined) return shapes.dims[d.dimParam]
  return axis === 0 ? shapes.batch : undefined
}
