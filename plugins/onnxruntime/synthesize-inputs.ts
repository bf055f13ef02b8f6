import * as ort from 'onnxruntime-node'
import { InferbenchError, seededRng, type Rng, type Scalar } from '../../core/plugin-api.ts'

export interface SynthesisedInput {
  name: string
  type: string
  /** The model's declared shape, symbolic dims as names. */
  declared: Array<number | string>
  shape: number[]
}

export interface SynthesisOptions {
  modelName: string
  batch: number
  /** Job parameters; a parameter named like a symbolic dimension binds it (e.g. seqLen: 128). */
  params: Readonly<Record<string, Scalar>>
  /** Integer inputs (token ids, masks) are drawn from [0, intHigh). */
  intHigh: number
  seed: number
}

/**
 * Builds one request's feeds from the model's input metadata. The first dimension of every
 * input is the batch: a symbolic one is bound to `batch`; a fixed one must equal it. Other
 * symbolic dimensions must be bound by a job parameter of the same name.
 */
export function synthesizeInputs(
  metadata: readonly ort.InferenceSession.ValueMetadata[],
  options: SynthesisOptions,
): { feeds: Record<string, ort.Tensor>; inputs: SynthesisedInput[] } {
  const rng = seededRng(options.seed)
  const feeds: Record<string, ort.Tensor> = {}
  const inputs: SynthesisedInput[] = []
  for (const meta of metadata) {
    if (!meta.isTensor) {
      throw unsynthesisable(options, `input '${meta.name}' is not a tensor (a sequence or map); inferbench can only synthesise tensor inputs`)
    }
    const shape = meta.shape.map((dim, axis) => bindDim(meta.name, meta.shape, dim, axis, options))
    feeds[meta.name] = makeTensor(meta.name, meta.type, shape, rng, options)
    inputs.push({ name: meta.name, type: meta.type, declared: [...meta.shape], shape })
  }
  return { feeds, inputs }
}

function bindDim(
  input: string, declared: ReadonlyArray<number | string>, dim: number | string, axis: number, options: SynthesisOptions,
): number {
  const symbolic = typeof dim === 'string' || dim < 0
  if (axis === 0) {
    if (!symbolic && dim !== options.batch) {
      throw new InferbenchError('INFERBENCH_BATCH_UNSUPPORTED',
        `model ${options.modelName} has a fixed batch dimension of ${dim} (input '${input}' shape [${declared.join(', ')}]), so it cannot run batch ${options.batch}; use batch: ${dim}, or export the model with a dynamic first dimension`)
    }
    if (symbolic && typeof dim === 'string' && dim !== '' && isBoundParam(options.params[dim])) return Number(options.params[dim])
    return options.batch
  }
  if (!symbolic) return dim
  const name = typeof dim === 'string' && dim !== '' ? dim : undefined
  const bound = name !== undefined ? options.params[name] : undefined
  if (isBoundParam(bound)) return Number(bound)
  throw unsynthesisable(options,
    `input '${input}' dimension ${axis} ${name ? `('${name}') ` : ''}is symbolic (shape [${declared.join(', ')}]) and no job parameter binds it; ${name ? `add ${name}: <size> to the bench or describe options` : 'the model names no dimension parameter there; give the model a named or fixed dimension'}`)
}

function isBoundParam(value: Scalar | undefined): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}

function makeTensor(name: string, type: string, shape: number[], rng: Rng, options: SynthesisOptions): ort.Tensor {
  const size = shape.reduce((a, b) => a * b, 1)
  switch (type) {
    case 'float32': {
      const data = new Float32Array(size)
      for (let i = 0; i < size; i++) data[i] = rng()
      return new ort.Tensor('float32', data, shape)
    }
    case 'float64': {
      const data = new Float64Array(size)
      for (let i = 0; i < size; i++) data[i] = rng()
      return new ort.Tensor('float64', data, shape)
    }
    case 'int64': {
      const data = new BigInt64Array(size)
      for (let i = 0; i < size; i++) data[i] = BigInt(Math.floor(rng() * options.intHigh))
      return new ort.Tensor('int64', data, shape)
    }
    case 'int32': {
      const data = new Int32Array(size)
      for (let i = 0; i < size; i++) data[i] = Math.floor(rng() * options.intHigh)
      return new ort.Tensor('int32', data, shape)
    }
    case 'uint8': {
      const data = new Uint8Array(size)
      for (let i = 0; i < size; i++) data[i] = Math.floor(rng() * 256)
      return new ort.Tensor('uint8', data, shape)
    }
    case 'int8': {
      const data = new Int8Array(size)
      for (let i = 0; i < size; i++) data[i] = Math.floor(rng() * 256) - 128
      return new ort.Tensor('int8', data, shape)
    }
    case 'bool': {
      const data = new Uint8Array(size)
      for (let i = 0; i < size; i++) data[i] = rng() < 0.5 ? 0 : 1
      return new ort.Tensor('bool', data, shape)
    }
    default:
      throw unsynthesisable(options, `input '${name}' has type ${type}, which inferbench cannot synthesise (supported: float32, float64, int64, int32, uint8, int8, bool)`)
  }
}

function unsynthesisable(options: SynthesisOptions, detail: string): InferbenchError {
  return new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `model ${options.modelName}: ${detail}`)
}
