import type { Sharp } from 'sharp'
import { z } from 'zod'

/**
 * sharp (libvips) on first use: loading it costs ~90 ms, which every CLI start and every spawned
 * server would otherwise pay whether or not it touches an image.
 */
type SharpFactory = typeof import('sharp').default
let sharpModule: Promise<SharpFactory> | undefined
export function loadSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then((m) => m.default)
  return sharpModule
}

/** ImageNet statistics of torchvision's pretrained models (RGB, on 0..1 values). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const

export const imageOptionsSchema = z.object({
  /** Side of the square crop the model takes. */
  size: z.number().int().positive().default(224),
  /** Shorter side after resizing, before the centre crop (torchvision's Resize(256) + CenterCrop(224)). */
  resize: z.number().int().positive().optional(),
  mean: z.tuple([z.number(), z.number(), z.number()]).default([...IMAGENET_MEAN]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([...IMAGENET_STD]),
  /** NCHW (PyTorch/ONNX) or NHWC (TensorFlow). */
  layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
  /** The model input the tensor feeds; default: the model's first input. */
  input: z.string().optional(),
}).strict()

export type ImageOptions = z.input<typeof imageOptionsSchema>
export type ImageSettings = z.output<typeof imageOptionsSchema>

/** Raw 8-bit RGB pixels, row-major HWC, as sharp or ffmpeg (rgb24) give them. */
export interface RgbFrame {
  data: Uint8Array
  width: number
  height: number
}

/**
 * The classic classification pre-processing: decode (JPEG, PNG, WebP, ...), resize so the
 * shorter side is `resize`, centre-crop `size`×`size`, scale to 0..1, subtract `mean` and divide
 * by `std` per channel, and lay out as CHW (or HWC) float32. Decoding and resizing run in
 * libvips on libuv's thread pool, so several images of a batch are processed at once.
 */
export function imagePreprocess(options: ImageOptions = {}): (encoded: Uint8Array) => Promise<Float32Array> {
  const s = imageOptionsSchema.parse(options)
  return async (encoded) => {
    const sharp = await loadSharp()
    return normalise(await resizeAndCrop(sharp(encoded), s), s)
  }
}

/** The same chain on a decoded RGB frame (a video frame from ffmpeg). */
export function framePreprocess(options: ImageOptions = {}): (frame: RgbFrame) => Promise<Float32Array> {
  const s = imageOptionsSchema.parse(options)
  return async (frame) => {
    const sharp = await loadSharp()
    return normalise(await resizeAndCrop(sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }), s), s)
  }
}

async function resizeAndCrop(image: Sharp, s: ImageSettings): Promise<Uint8Array> {
  const shorter = s.resize ?? Math.round(s.size * 256 / 224)
  const meta = await image.metadata()
  if (!meta.width || !meta.height) throw new Error('not a decodable image (no width or height)')
  const scale = shorter / Math.min(meta.width, meta.height)
  const width = Math.max(s.size, Math.round(meta.width * scale))
  const height = Math.max(s.size, Math.round(meta.height * scale))
  const { data, info } = await image
    .removeAlpha().toColourspace('srgb')
    .resize(width, height, { kernel: 'lanczos3', fit: 'fill' })
    .extract({ left: Math.floor((width - s.size) / 2), top: Math.floor((height - s.size) / 2), width: s.size, height: s.size })
    .raw().toBuffer({ resolveWithObject: true })
  if (info.channels !== 3) throw new Error(`expected 3 colour channels after decoding, got ${info.channels}`)
  return data
}

/** 8-bit HWC RGB → normalised float32 in the chosen layout. */
export function normalise(rgb: Uint8Array, s: Pick<ImageSettings, 'size' | 'mean' | 'std' | 'layout'>): Float32Array {
  const plane = s.size * s.size
  const out = new Float32Array(plane * 3)
  const scale = [1 / (255 * s.std[0]), 1 / (255 * s.std[1]), 1 / (255 * s.std[2])]
  const shift = [s.mean[0] / s.std[0], s.mean[1] / s.std[1], s.mean[2] / s.std[2]]
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const value = rgb[p * 3 + c]! * scale[c]! - shift[c]!
      out[s.layout === 'NCHW' ? c * plane + p : p * 3 + c] = value
    }
  }
  return out
}
