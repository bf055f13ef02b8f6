import type { ModelAnalyzer, ModelStats } from '../../../core/plugin-api.ts'
import { analyzeOnnx, type ModelAnalysis } from './analyze.ts'

export { analyzeOnnx, analyzeModel, type ModelAnalysis, type AnalysisShapes } from './analyze.ts'

const cache = new Map<string, ModelStats>()

/** The ONNX analyzer plugged into every job: cached per model hash and input shapes. */
export const onnxAnalyzer: ModelAnalyzer = (model, shapes) => {
  if (!looksLikeOnnx(model.bytes)) return undefined
  const key = `${model.sha256}:${shapes.batch}:${JSON.stringify(shapes.dims)}`
  let stats = cache.get(key)
  if (!stats) {
    stats = toStats(analyzeOnnx(model.bytes, shapes))
    cache.set(key, stats)
  }
  return stats
}

export function toStats(a: ModelAnalysis): ModelStats {
  return {
    params: a.params, weightBytes: a.weightBytes, flops: a.flops, macs: a.macs, bytes: a.bytes,
    uncounted: a.uncounted.map((u) => `${u.op} (${u.node}): ${u.reason}`),
  }
}

/** A ModelProto starts with field 1 (ir_version, varint): tag byte 0x08. */
function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes[0] === 0x08
}
