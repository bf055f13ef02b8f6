import onnxProto from 'onnx-proto'
import type * as OnnxTypes from 'onnx-proto'
import { seededRng, type Rng } from '../../core/plugin-api.ts'

export const { onnx } = onnxProto
type INodeProto = OnnxTypes.onnx.INodeProto
type IValueInfoProto = OnnxTypes.onnx.IValueInfoProto
type ITensorProto = OnnxTypes.onnx.ITensorProto
type IAttributeProto = OnnxTypes.onnx.IAttributeProto

/** ONNX TensorProto.DataType values used by the generators. */
export const DType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const
export type DTypeCode = (typeof DType)[keyof typeof DType]

export type Dim = number | string
export type AttrValue = number | string | number[] | { floats: number[] } | { float: number }

/** The ONNX opset the generators target (17: LayerNormalization), supported by onnxruntime since 1.12. */
export const OPSET = 17
const IR_VERSION = 8

/**
 * A small builder over onnx-proto's ModelProto: named values in, serialised bytes out. Weights
 * come from a seeded generator, so the same spec always produces the same bytes.
 */
export class GraphBuilder {
  private readonly nodes: INodeProto[] = []
  private readonly inputs: IValueInfoProto[] = []
  private readonly outputs: IValueInfoProto[] = []
  private readonly initializers: ITensorProto[] = []
  private readonly used = new Map<string, number>()
  readonly rng: Rng

  /**
   * With `weights: false` the weight initializers keep their shapes but carry no data: a model
   * for static analysis (parameter and FLOP counts) that costs nothing to build, not to run.
   */
  constructor(private readonly name: string, seed: number, private readonly options: { weights?: boolean } = {}) {
    this.rng = seededRng(seed)
  }

  /** A fresh value name with the given stem: `fc1`, `fc1_2`, ... */
  fresh(stem: string): string {
    const n = (this.used.get(stem) ?? 0) + 1
    this.used.set(stem, n)
    return n === 1 ? stem : `${stem}_${n}`
  }

  input(name: string, dtype: DTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, dtype, dims))
    return name
  }

  output(name: string, dtype: DTypeCode, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, dtype, dims))
    return name
  }

  /** A float32 initializer with uniform random values in [-scale, scale]. */
  weight(stem: string, dims: number[], scale: number): string {
    if (this.options.weights === false) {
      const name = this.fresh(stem)
      this.initializers.push({ name, dims, dataType: DType.FLOAT })
      return name
    }
    const size = dims.reduce((a, b) => a * b, 1)
    const data = new Float32Array(size)
    const rng = this.rng
    for (let i = 0; i < size; i++) data[i] = (rng() * 2 - 1) * scale
    return this.constant(stem, dims, data)
  }

  /** An initializer holding exactly `data`. */
  constant(stem: string, dims: number[], data: Float32Array | BigInt64Array | Int32Array): string {
    const name = this.fresh(stem)
    const dataType = data instanceof Float32Array ? DType.FLOAT : data instanceof BigInt64Array ? DType.INT64 : DType.INT32
    this.initializers.push({ name, dims, dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) })
    return name
  }

  /** Adds a node; returns its output names (one fresh name per requested output). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: number | string[] = 1): string[] {
    const outNames = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
      : outputs
    this.nodes.push({
      name: this.fresh(`${opType}_node`), opType, input: inputs, output: outNames,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    })
    return outNames
  }

  /** Single-output convenience for `node`. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0]!
  }

  build(docString = ''): Uint8Array {
    return onnx.ModelProto.encode(this.model(docString)).finish()
  }

  model(docString = ''): OnnxTypes.onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'inferbench',
      docString,
      graph: { name: this.name, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers },
    })
  }
}

function valueInfo(name: string, dtype: DTypeCode, dims: Dim[]): IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: dtype, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  }
}

function attribute(name: string, value: AttrValue): IAttributeProto {
  const T = onnx.AttributeProto.AttributeType
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) }
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value }
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats }
  return { name, type: T.FLOAT, f: value.float }
}
