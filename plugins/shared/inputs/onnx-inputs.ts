import onnxProto from 'onnx-proto'
import { InferbenchError } from '../../../core/plugin-api.ts'
import type { InputDescriptor } from './synthesize.ts'

const { onnx } = onnxProto

/** ONNX TensorProto.DataType → onnxruntime's type names. */
const ELEM_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
}

/**
 * A model's graph inputs (initializers excluded) read from its ONNX bytes, symbolic dims by
 * name: what a client needs to synthesise requests for a model served elsewhere.
 */
export function onnxInputs(bytes: Uint8Array, modelName: string): InputDescriptor[] {
  let graph: ReturnType<typeof onnx.ModelProto.decode>['graph']
  try {
    graph = onnx.ModelProto.decode(bytes).graph
  } catch (error) {
    throw new InferbenchError('INFERBENCH_MODEL_UNLOADABLE', `model ${modelName} is not a valid ONNX file: ${(error as Error).message}`, { cause: error })
  }
  const initializers = new Set((graph?.initializer ?? []).map((t) => t.name))
  return (graph?.input ?? []).filter((i) => !initializers.has(i.name)).map((input) => {
    const tensor = input.type?.tensorType
    if (!tensor) throw new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `model ${modelName}: input '${input.name}' is not a tensor`)
    return {
      name: input.name ?? '',
      type: ELEM_TYPES[tensor.elemType ?? 0] ?? `onnx type ${tensor.elemType}`,
      shape: (tensor.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : -1)),
    }
  })
}

/** An ONNX model's named symbolic input dimensions and the axes they sit on; undefined when the bytes are not ONNX. */
export function onnxSymbolicDims(bytes: Uint8Array): Array<{ name: string; axis: number }> | undefined {
  if (bytes.length === 0 || bytes[0] !== 0x08) return undefined
  try {
    return onnxInputs(bytes, 'model').flatMap((i) => i.shape.flatMap((d, axis) => (typeof d === 'string' && d !== '' ? [{ name: d, axis }] : [])))
  } catch {
    return undefined
  }
}
