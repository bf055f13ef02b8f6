import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Lays a model out as Triton expects it: <repo>/<name>/1/model.onnx and a config.pbtxt that
 * names the platform and, when asked, dynamic batching (Triton completes the rest from the model).
 */
export function tritonRepository(dir: string, modelName: string, modelPath: string, batching: { maxBatch: number; maxQueueDelayUs: number }): string {
  const versionDir = join(dir, modelName, '1')
  mkdirSync(versionDir, { recursive: true })
  copyFileSync(modelPath, join(versionDir, 'model.onnx'))
  const lines = [`name: "${modelName}"`, 'platform: "onnxruntime_onnx"', `max_batch_size: ${batching.maxBatch}`]
  if (batching.maxBatch > 1) lines.push(`dynamic_batching { max_queue_delay_microseconds: ${Math.round(batching.maxQueueDelayUs)} }`)
  writeFileSync(join(dir, modelName, 'config.pbtxt'), `${lines.join('\n')}\n`)
  return dir
}
