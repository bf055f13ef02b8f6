import type { z } from 'zod'
import { definePlugin, zodIssuesToMessage, type DataItem, type Plugin, type Processor, type ProcessorModel, type Tensor, type TensorMap } from '../../core/plugin-api.ts'
import { imageOptionsSchema, imagePreprocess } from './image.ts'
import { topKOptionsSchema, topKPostprocess } from './post.ts'
import { stackTokens, textOptionsSchema, textPreprocess } from './text.ts'
import { videoOptionsSchema, videoPreprocess } from './video.ts'
import { syntheticImages, syntheticSentences, syntheticVideos } from './data-sets.ts'

export { imagePreprocess, framePreprocess, normalise, IMAGENET_MEAN, IMAGENET_STD, type ImageOptions, type RgbFrame } from './image.ts'
export { textPreprocess, stackTokens, type TextOptions, type TokenizedText } from './text.ts'
export { videoPreprocess, requireFfmpeg, type VideoOptions } from './video.ts'
export { softmax, topK, topKPostprocess, readLabels, type Prediction, type TopKOptions } from './post.ts'

/**
 * Request data and the stages around inference: image (sharp), video (ffmpeg), text (WordPiece)
 * pre-processing, top-k post-processing, and built-in data sets (synthetic images, sentences,
 * videos). The server backend runs the same pre-processors on its side (placement: 'server').
 */
export function processors(): Plugin {
  return definePlugin({
    name: 'inferbench:processors',
    processors: { image: imageProcessor, video: videoProcessor, text: textProcessor, topK: topKProcessor },
    dataSets: { images: syntheticImages, sentences: syntheticSentences, videos: syntheticVideos },
    axes: { placement: "where a pipeline's pre-processing runs: 'client' (default) or 'server' (the server receives the raw bytes)" },
  })
}

/**
 * A pre-processor of encoded pixels (an image, a video's frames): each item to `framesOf`
 * float32 rows of size × size × 3, stacked as the model's batch in the chosen layout.
 */
function pixelProcessor<S extends typeof imageOptionsSchema | typeof videoOptionsSchema>(
  schema: S, prepare: (options: Record<string, unknown>) => (encoded: Uint8Array) => Promise<Float32Array>, framesOf: (settings: z.output<S>) => number,
): Processor {
  return {
    stage: 'pre',
    reads: 'bytes',
    check: (options) => checkOptions(schema, options),
    create(given, model) {
      const input = inputName(given, model)
      const options = { ...given, size: fittedSize(given, model.shapes?.[input], (given.layout ?? 'NCHW') === 'NHWC') }
      const one = prepare(options)
      const s = schema.parse(options) as z.output<S>
      const frames = framesOf(s)
      return async (items) => {
        const rows = await Promise.all(items.map((item) => one(bytesOf(item)).catch((error: Error) => { throw itemError(item, error) })))
        const n = items.length * frames
        return { [input]: stack(rows, s.layout === 'NHWC' ? [n, s.size, s.size, 3] : [n, 3, s.size, s.size]) }
      }
    },
  }
}

const imageProcessor = pixelProcessor(imageOptionsSchema, imagePreprocess, () => 1)
// Frames are rows of the image model's batch: a clip of `frames` frames per item.
const videoProcessor = pixelProcessor(videoOptionsSchema, videoPreprocess, (s) => s.frames)

const textProcessor: Processor = {
  stage: 'pre',
  reads: 'text',
  check: (options) => checkOptions(textOptionsSchema, options),
  create(given, model) {
    if (!model.inputs.includes('input_ids')) throw new Error(`the text processor feeds input_ids (with attention_mask, token_type_ids), and the model's inputs are ${model.inputs.join(', ')}`)
    const seqLen = fittedLength(given, model.shapes?.input_ids)
    const tokenize = textPreprocess({ ...given, seqLen })
    return (items) => {
      const all = stackTokens(items.map((item) => {
        if (item.text === undefined) throw itemError(item, new Error('is not a text'))
        return tokenize(item.text)
      }), seqLen)
      return Object.fromEntries(Object.entries(all).filter(([name]) => model.inputs.includes(name)))
    }
  },
}

const topKProcessor: Processor = {
  stage: 'post',
  check: (options) => checkOptions(topKOptionsSchema, options),
  outputs: (options, model) => [logitsOutput(options, model)],
  create(options, model) {
    const predict = topKPostprocess(options)
    const output = logitsOutput(options, model)
    return (outputs: TensorMap) => {
      const logits = outputs[output]
      if (!logits) throw new Error(`topK: the answer has no output '${output}'`)
      return predict(logits)
    }
  },
}

function checkOptions(schema: z.ZodType, options: Record<string, unknown>): void {
  const parsed = schema.safeParse(options)
  if (!parsed.success) throw new Error(zodIssuesToMessage(parsed.error))
}

/** A fixed dimension of a model input, or undefined when it is free (-1, a name) or unknown. */
function fixedDim(shape: Array<number | string> | undefined, axis: number): number | undefined {
  const d = shape?.[axis]
  return typeof d === 'number' && d > 0 ? d : undefined
}

/** The crop size: the model's fixed image size unless `size` says otherwise, and then they must agree. */
function fittedSize(options: Record<string, unknown>, shape: Array<number | string> | undefined, nhwc: boolean): number {
  const height = fixedDim(shape, nhwc ? 1 : 2)
  const width = fixedDim(shape, nhwc ? 2 : 3)
  const modelSize = height !== undefined && height === width ? height : undefined
  const asked = options.size as number | undefined
  if (asked !== undefined && modelSize !== undefined && asked !== modelSize) {
    throw new Error(`size ${asked} does not fit the model, which takes ${modelSize}×${modelSize} images ([${shape!.join(', ')}]); leave size out to follow the model`)
  }
  return asked ?? modelSize ?? 224
}

/** The token count: the model's fixed sequence length unless `seqLen` says otherwise, and then they must agree. */
function fittedLength(options: Record<string, unknown>, shape: Array<number | string> | undefined): number {
  const modelLen = fixedDim(shape, 1)
  const asked = options.seqLen as number | undefined
  if (asked !== undefined && modelLen !== undefined && asked !== modelLen) {
    throw new Error(`seqLen ${asked} does not fit the model, whose input_ids hold ${modelLen} tokens ([${shape!.join(', ')}]); leave seqLen out to follow the model`)
  }
  return asked ?? modelLen ?? 128
}

/**
 * The output topK reads: its `output` option, else the model's only output, else one named
 * 'logits'. A model with several and none of that name (BERT's hidden states beside its
 * classifier) must be told, or topK would rank hidden units as if they were classes.
 */
function logitsOutput(options: Record<string, unknown>, model: ProcessorModel): string {
  const named = options.output as string | undefined
  if (named !== undefined) {
    if (!model.outputs.includes(named)) throw new Error(`the model has no output '${named}'; outputs: ${model.outputs.join(', ')}`)
    return named
  }
  if (model.outputs.length === 1) return model.outputs[0]!
  if (model.outputs.includes('logits')) return 'logits'
  throw new Error(`the model has ${model.outputs.length} outputs (${model.outputs.join(', ')}); name the one holding the class scores with output: '<name>'`)
}

function inputName(options: Record<string, unknown>, model: ProcessorModel): string {
  const input = (options.input as string | undefined) ?? model.inputs[0]
  if (!input || !model.inputs.includes(input)) throw new Error(`the model has no input '${input}'; inputs: ${model.inputs.join(', ')}`)
  return input
}

function bytesOf(item: DataItem): Uint8Array {
  if (item.bytes) return item.bytes
  if (item.text !== undefined) return Buffer.from(item.text)
  throw itemError(item, new Error('has no bytes'))
}

function itemError(item: DataItem, error: Error): Error {
  return new Error(`${item.source}: ${error.message}`, { cause: error })
}

function stack(rows: Float32Array[], dims: number[]): Tensor {
  const size = rows[0]?.length ?? 0
  const data = new Float32Array(rows.length * size)
  rows.forEach((r, i) => data.set(r, i * size))
  return { type: 'float32', dims, data }
}
