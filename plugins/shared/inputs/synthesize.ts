import { InferbenchError, seededRng, type Rng, type Scalar } from '../../../core/plugin-api.ts'

/** An input as a model declares it: element type (onnxruntime's names) and shape, symbolic dims as names or -1. */
export interface InputDescriptor {
  name: string
  type: string
  shape: ReadonlyArray<number | string>
}

export type InputArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array

export interface SynthesisedInput {
  name: string
  type: string
  /** The model's declared shape, symbolic dims as names. */
  declared: Array<number | string>
  shape: number[]
  data: InputArray
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
 * Builds one request's inputs from the model's declared inputs. The first dimension of every
 * input is the batch: a symbolic one is bound to `batch`; a fixed one must equal it. Other
 * symbolic dimensions must be bound by a job parameter of the same name.
 */
export function synthesizeInputs(inputs: readonly InputDescriptor[], options: SynthesisOptions): SynthesisedInput[] {
  const rng = seededRng(options.seed)
  return inputs.map((input) => {
    const shape = input.shape.map((dim, axis) => bindDim(input.name, input.shape, dim, axis, options))
    return { name: input.name, type: input.type, declared: [...input.shape], shape, data: makeArray(input.name, input.type, shape, rng, options) }
  })
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
    // The batch axis is sized by the job's batch alone: samples/s and FLOPs count that batch.
    if (symbolic && typeof dim === 'string' && dim !== '' && isBoundParam(options.params[dim]) && Number(options.params[dim]) !== options.batch) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID',
        `model ${options.modelName}: '${dim}' is the batch dimension of input '${input}' (axis 0); set batch: ${String(options.params[dim])} instead of ${dim}`)
    }
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

function makeArray(name: string, type: string, shape: number[], rng: Rng, options: SynthesisOptions): InputArray {
  const size = shape.reduce((a, b) => a * b, 1)
  switch (type) {
    case 'float32': return Float32Array.from({ length: size }, rng)
    case 'float64': return Float64Array.from({ length: size }, rng)
    case 'int64': return BigInt64Array.from({ length: size }, () => BigInt(Math.floor(rng() * options.intHigh)))
    case 'int32': return Int32Array.from({ length: size }, () => Math.floor(rng() * options.intHigh))
    case 'uint8': return Uint8Array.from({ length: size }, () => Math.floor(rng() * 256))
    case 'int8': return Int8Array.from({ length: size }, () => Math.floor(rng() * 256) - 128)
    case 'bool': return Uint8Array.from({ length: size }, () => (rng() < 0.5 ? 0 : 1))
    default:
      throw unsynthesisable(options, `input '${name}' has type ${type}, which inferbench cannot synthesise (supported: float32, float64, int64, int32, uint8, int8, bool)`)
  }
}

function unsynthesisable(options: SynthesisOptions, detail: string): InferbenchError {
  return new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `model ${options.modelName}: ${detail}`)
}
