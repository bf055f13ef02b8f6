/** Row-major flat values → nested arrays of `shape` (TF Serving's JSON tensors are nested). */
export function nest(flat: ArrayLike<number | bigint>, shape: readonly number[]): unknown {
  const values = Array.from(flat, (v) => (typeof v === 'bigint' ? Number(v) : v))
  const build = (offset: number, axis: number): unknown => {
    if (axis === shape.length) return values[offset]
    const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1)
    return Array.from({ length: shape[axis]! }, (_, i) => build(offset + i * stride, axis + 1))
  }
  return build(0, 0)
}
