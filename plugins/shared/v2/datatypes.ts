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
  return Object.hasOwn(V2_TO_ORT, value)
}

/** Integer datatypes and the values JSON can carry for them exactly (64-bit ones: safe integers). */
const INTEGER_RANGE: Partial<Record<V2Datatype, [number, number]>> = {
  UINT8: [0, 255], INT8: [-128, 127], INT16: [-32768, 32767], UINT16: [0, 65535], INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295], INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], UINT64: [0, Number.MAX_SAFE_INTEGER],
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

export type TypedArray = ort.Tensor['data']

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
  if (datatype === 'FP16') throw new Error('FP16 tensors can only be sent as binary data')
  // The common case, a flat array of floats, is checked and copied in one pass: the general path
  // below (flatten, check, convert) cost a JSON server a fifth of its per-request time.
  if ((datatype === 'FP32' || datatype === 'FP64') && Array.isArray(data)) {
    const out = datatype === 'FP32' ? new Float32Array(data.length) : new Float64Array(data.length)
    let i = 0
    for (; i < data.length; i++) {
      const v: unknown = data[i]
      if (typeof v !== 'number' || !Number.isFinite(v)) break
      out[i] = v
    }
    if (i === data.length) return out
  }
  let flat: unknown[]
  try {
    flat = (Array.isArray(data) ? data.flat(Infinity) : [data]) as unknown[]
  } catch {
    throw new Error('data is nested too deeply; send a flat array (the shape gives the dimensions)')
  }
  if (datatype === 'BOOL') {
    for (const v of flat) if (typeof v !== 'boolean' && typeof v !== 'number') throw new Error(`expected booleans in data for BOOL, found ${describe(v)}`)
    return Uint8Array.from(flat, (v) => (v ? 1 : 0))
  }
  const range = INTEGER_RANGE[datatype]
  for (const v of flat) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`expected numbers in data for ${datatype}, found ${describe(v)}`)
    if (range && !(Number.isInteger(v) && v >= range[0] && v <= range[1])) {
      throw new Error(`${datatype} values must be integers from ${range[0]} to ${range[1]}${datatype.endsWith('64') ? ' in JSON (send others as binary data)' : ''}, found ${v}`)
    }
  }
  const numbers = flat as number[]
  switch (datatype) {
    case 'INT64': return BigInt64Array.from(numbers, (v) => BigInt(v))
    case 'UINT64': return BigUint64Array.from(numbers, (v) => BigInt(v))
    case 'UINT8': return Uint8Array.from(numbers)
    case 'INT8': return Int8Array.from(numbers)
    case 'INT16': return Int16Array.from(numbers)
    case 'UINT16': return Uint16Array.from(numbers)
    case 'INT32': return Int32Array.from(numbers)
    case 'UINT32': return Uint32Array.from(numbers)
    case 'FP32': return Float32Array.from(numbers)
    case 'FP64': return Float64Array.from(numbers)
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `the string ${JSON.stringify(value.slice(0, 40))}` : value === null ? 'null' : typeof value === 'number' ? String(value) : typeof value
}

/** JSON-safe flat values of a tensor (int64 as numbers). */
export function toJson(data: TypedArray): Array<number | boolean> {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number)
  // Pushed one by one: Array.from walks a typed array through its iterator, and an array made with
  // new Array(n) has holes, which JSON.stringify serialises ~40% slower. For 1,024 floats, convert
  // + stringify: Array.from 257 µs, holey 280 µs, this 218 µs (hot loop; docs/overhead.md).
  const values = data as ArrayLike<number>
  const out: number[] = []
  for (let i = 0; i < values.length; i++) out.push(values[i]!)
  return out
}

export function rawBytes(data: TypedArray): Uint8Array {
  const view = data as unknown as ArrayBufferView
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength)
}

/**
 * BYTES elements in the binary tensor extension: each a 4-byte little-endian length, then its
 * bytes (Triton's binary data format for variable-length elements).
 */
export function encodeBytesElements(elements: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(elements.reduce((n, e) => n + 4 + e.byteLength, 0))
  let offset = 0
  for (const e of elements) {
    out.writeUInt32LE(e.byteLength, offset)
    out.set(e, offset + 4)
    offset += 4 + e.byteLength
  }
  return out
}

/** The elements of a binary BYTES tensor; throws when the lengths do not fit the payload or the count. */
export function decodeBytesElements(raw: Uint8Array, count: number): Uint8Array[] {
  const view = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const out: Uint8Array[] = []
  let offset = 0
  while (offset < view.length) {
    if (offset + 4 > view.length) throw new Error(`BYTES payload ends inside an element's 4-byte length at offset ${offset}`)
    const length = view.readUInt32LE(offset)
    if (offset + 4 + length > view.length) throw new Error(`BYTES element ${out.length} claims ${length} bytes at offset ${offset}, past the payload's ${view.length}`)
    out.push(view.subarray(offset + 4, offset + 4 + length))
    offset += 4 + length
  }
  if (out.length !== count) throw new Error(`BYTES payload holds ${out.length} elements, the shape says ${count}`)
  return out
}
