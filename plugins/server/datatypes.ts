import * as ort from 'onnxruntime-node'

/**
 * KServe v2 datatypes and their onnxruntime / typed-array counterparts. Little-endian raw
 * layout as in the binary tensor extension; BOOL is one byte per element.
 */
export type V2Datatype = 'BOOL' | 'UINT8' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'UINT16' | 'UINT32' | 'UINT64' | 'FP16' | 'FP32' | 'FP64'

export const V2_TO_ORT: Record<V2Datatype, ort.Tensor.Type> = {
  BOOL: 'bool', UINT8: 'uint8', INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64',
  UINT16: 'uint16', UINT32: 'uint32', UINT64: 'uint64', FP16: 'float16', FP32: 'float32', FP64: 'float64',
}

export const ORT_TO_V2: Partial<Record<string, V2Datatype>> = Object.fromEntries(
  Object.entries(V2_TO_ORT).map(([v2, ortType]) => [ortType, v2 as V2Datatype]),
)

export const BYTES_PER_ELEMENT: Record<V2Datatype, number> = {
  BOOL: 1, UINT8: 1, INT8: 1, INT16: 2, UINT16: 2, FP16: 2, INT32: 4, UINT32: 4, FP32: 4, INT64: 8, UINT64: 8, FP64: 8,
}

export function isV2Datatype(value: string): value is V2Datatype {
  return value in V2_TO_ORT
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

type TypedArray = ort.Tensor['data']

/** A typed array view over raw little-endian bytes (copied when misaligned). */
export function fromRaw(datatype: V2Datatype, raw: Uint8Array): TypedArray {
  const size = BYTES_PER_ELEMENT[datatype]
  // Buffer.slice is a view, not a copy: copy into a fresh, aligned Uint8Array.
  const aligned = raw.byteOffset % size === 0 ? raw : new Uint8Array(raw)
  const { buffer, byteOffset, byteLength } = aligned
  const n = byteLength / size
  switch (datatype) {
    case 'BOOL': case 'UINT8': return new Uint8Array(buffer, byteOffset, n)
    case 'INT8': return new Int8Array(buffer, byteOffset, n)
    case 'INT16': return new Int16Array(buffer, byteOffset, n)
    case 'UINT16': case 'FP16': return new Uint16Array(buffer, byteOffset, n)
    case 'INT32': return new Int32Array(buffer, byteOffset, n)
    case 'UINT32': return new Uint32Array(buffer, byteOffset, n)
    case 'FP32': return new Float32Array(buffer, byteOffset, n)
    case 'INT64': return new BigInt64Array(buffer, byteOffset, n)
    case 'UINT64': return new BigUint64Array(buffer, byteOffset, n)
    case 'FP64': return new Float64Array(buffer, byteOffset, n)
  }
}

/** A typed array from JSON numbers (flat or nested), as the v2 JSON `data` field carries them. */
export function fromJson(datatype: V2Datatype, data: unknown): TypedArray {
  const flat = (Array.isArray(data) ? data.flat(Infinity) : [data]) as unknown[]
  switch (datatype) {
    case 'BOOL': return Uint8Array.from(flat, (v) => (v ? 1 : 0))
    case 'INT64': return BigInt64Array.from(flat, (v) => BigInt(v as number))
    case 'UINT64': return BigUint64Array.from(flat, (v) => BigInt(v as number))
    case 'FP16': throw new Error('FP16 tensors can only be sent as binary data')
    default: {
      const Ctor = { UINT8: Uint8Array, INT8: Int8Array, INT16: Int16Array, UINT16: Uint16Array, INT32: Int32Array, UINT32: Uint32Array, FP32: Float32Array, FP64: Float64Array }[datatype]
      for (const v of flat) if (typeof v !== 'number') throw new Error(`expected numbers in data for ${datatype}, found ${typeof v}`)
      return Ctor.from(flat as number[])
    }
  }
}

/** JSON-safe flat values of a tensor (int64 as numbers). */
export function toJson(data: TypedArray): Array<number | boolean> {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number)
  return Array.from(data as ArrayLike<number>)
}

export function rawBytes(data: TypedArray): Uint8Array {
  const view = data as unknown as ArrayBufferView
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}
