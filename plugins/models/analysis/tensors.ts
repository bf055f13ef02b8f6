import type * as OnnxTypes from 'onnx-proto'

type ITensorProto = OnnxTypes.onnx.ITensorProto

/** What analysis knows of a value: its shape when inferable, and its contents when small and constant. */
export interface TensorInfo {
  shape?: number[]
  dtype: number
  /** Constant integer contents (shapes, axes, indices), when known. */
  value?: number[]
  /** Constant small float contents (Resize scales), when known. */
  floats?: number[]
}

/** Bytes per element of ONNX TensorProto.DataType codes. */
const DTYPE_BYTES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2,
}

export function bytesPerElement(dtype: number): number {
  return DTYPE_BYTES[dtype] ?? 4
}

export function elements(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

export function tensorBytes(info: TensorInfo | undefined): number {
  return info?.shape ? elements(info.shape) * bytesPerElement(info.dtype) : 0
}

const SMALL = 64

/** Reads a small int64/int32 initializer's values (shapes, axes); undefined for large or float tensors. */
export function smallIntValues(t: ITensorProto): number[] | undefined {
  const dims = (t.dims ?? []).map(Number)
  if (elements(dims) > SMALL) return undefined
  if (t.dataType === 7) {
    if (t.int64Data && t.int64Data.length) return t.int64Data.map(Number)
    if (t.rawData && t.rawData.length) {
      const raw = t.rawData
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
      return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)))
    }
  }
  if (t.dataType === 6) {
    if (t.int32Data && t.int32Data.length) return [...t.int32Data]
    if (t.rawData && t.rawData.length) {
      const raw = t.rawData
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
      return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getInt32(i * 4, true))
    }
  }
  return undefined
}

/** Reads a small float32 tensor's values (Resize scales); undefined for large or other tensors. */
export function smallFloatValues(t: ITensorProto): number[] | undefined {
  const dims = (t.dims ?? []).map(Number)
  if (elements(dims) > SMALL || t.dataType !== 1) return undefined
  if (t.floatData && t.floatData.length) return [...t.floatData]
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
    return Array.from({ length: raw.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true))
  }
  return undefined
}

/** Floating-point ONNX data types: float, float16, double, bfloat16. Tensors of these are weights. */
export function isFloatType(dtype: number): boolean {
  return dtype === 1 || dtype === 10 || dtype === 11 || dtype === 16
}

/** numpy broadcasting of two shapes. */
export function broadcast(a: number[], b: number[]): number[] {
  const rank = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1
    const y = b[b.length - rank + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`)
    out.push(Math.max(x, y))
  }
  return out
}
