import * as ort from 'onnxruntime-node'
import type { ModelSignature } from '../../core/store/model-repository.ts'

/** Loads a model in onnxruntime and reads its input/output signature; throws ORT's reason when it cannot load. */
export async function ortSignature(path: string): Promise<ModelSignature> {
  let session: ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(path)
  } catch (error) {
    throw new Error(`onnxruntime cannot load ${path}: ${(error as Error).message}`, { cause: error })
  }
  try {
    const describe = (m: ort.InferenceSession.ValueMetadata) =>
      ({ name: m.name, type: m.isTensor ? m.type : 'non-tensor', shape: m.isTensor ? [...m.shape] : [] })
    return { inputs: session.inputMetadata.map(describe), outputs: session.outputMetadata.map(describe) }
  } finally {
    await session.release()
  }
}
