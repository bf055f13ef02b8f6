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

/**
 * A small tensor's values (at most 64 elements) as numbers, from its typed field or its little-endian
 * raw bytes; undefined for large tensors and other types. Shapes, axes and indices are int64/int32;
 * Resize scales are float32.
 */
function smallValues(t: ITensorProto, dataType: 1 | 6 | 7): number[] | undefined {
  if (t.dataType !== dataType || elements((t.dims ?? []).map(Number)) > SMALL) return undefined
  const typed = dataType === 7 ? t.int64Data : dataType === 6 ? t.int32Data : t.floatData
  if (typed && typed.length) return Array.from(typed, Number)
  const raw = t.rawData
  if (!raw || !raw.length) return undefined
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const width = dataType === 7 ? 8 : 4
  const read = (i: number) => (dataType === 7 ? Number(view.getBigInt64(i, true)) : dataType === 6 ? view.getInt32(i, true) : view.getFloat32(i, true))
  return Array.from({ length: raw.byteLength / width }, (_, i) => read(i * width))
}

/** A small int64/int32 tensor's values (shapes, axes); undefined for large or float tensors. */
export function smallIntValues(t: ITensorProto): number[] | undefined {
  return smallValues(t, 7) ?? smallValues(t, 6)
}

/** A small float32 tensor's values (Resize scales); undefined for large or other tensors. */
export function smallFloatValues(t: ITensorProto): number[] | undefined {
  return smallValues(t, 1)
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
