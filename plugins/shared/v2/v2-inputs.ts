import { rawBytes, ORT_TO_V2, type V2Datatype } from './datatypes.ts'
import type { SynthesisedInput } from '../inputs/synthesize.ts'
import { InferbenchError } from '../../../core/plugin-api.ts'

export interface V2Input {
  name: string
  datatype: V2Datatype
  shape: number[]
  raw: Uint8Array
  values: SynthesisedInput['data']
}

/** Synthesised inputs as v2 tensors: datatype names and little-endian raw bytes. */
export function toV2Inputs(inputs: SynthesisedInput[], modelName: string): V2Input[] {
  return inputs.map((i) => {
    const datatype = ORT_TO_V2[i.type]
    if (!datatype) throw new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `model ${modelName}: input '${i.name}' of type ${i.type} has no v2 datatype`)
    return { name: i.name, datatype, shape: i.shape, raw: rawBytes(i.data), values: i.data }
  })
}
