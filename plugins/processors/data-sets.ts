import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { seededRng, type DataItem, type DataSetContext, type Rng } from '../../core/plugin-api.ts'
import { loadSharp } from './image.ts'
import { requireFfmpeg } from './video.ts'

/** Frame sizes of camera and web images: landscape and portrait, small to HD. */
const IMAGE_SIZES: Array<[number, number]> = [[640, 480], [480, 640], [1024, 768], [800, 600], [1280, 720], [320, 240], [500, 375], [1024, 1024]]
const IMAGE_COUNT = 32
const VERSION = 1

/**
 * `images`: 32 synthetic photos-to-be of varied size (320×240 to 1280×720, portrait and
 * landscape) and content (gradients, shapes, fine noise that JPEG must spend bits on), half JPEG
 * (quality 85), half PNG. Seeded, so every machine benchmarks the same bytes; cached after the
 * first build.
 */
export async function syntheticImages(ctx: DataSetContext): Promise<DataItem[]> {
  return cached(ctx, 'images', async (dir) => {
    const sharp = await loadSharp()
    const rng = seededRng(20261130)
    for (let i = 0; i < IMAGE_COUNT; i++) {
      const [width, height] = IMAGE_SIZES[i % IMAGE_SIZES.length]!
      const image = sharp(Buffer.from(scene(width, height, rng))).composite([{ input: noise(width, height, rng), raw: { width, height, channels: 3 }, blend: 'soft-light' }])
      const encoded = i % 2 === 0 ? await image.jpeg({ quality: 85 }).toBuffer() : await image.png().toBuffer()
      writeFileSync(join(dir, `image-${String(i).padStart(2, '0')}-${width}x${height}.${i % 2 === 0 ? 'jpg' : 'png'}`), encoded)
    }
  })
}

/** An SVG scene: a two-colour gradient and a dozen random circles and rectangles. */
function scene(width: number, height: number, rng: Rng): string {
  const colour = () => `rgb(${Math.floor(rng() * 256)},${Math.floor(rng() * 256)},${Math.floor(rng() * 256)})`
  const shapes: string[] = []
  for (let s = 0; s < 12; s++) {
    const x = Math.floor(rng() * width)
    const y = Math.floor(rng() * height)
    const r = Math.floor((0.05 + rng() * 0.2) * Math.min(width, height))
    shapes.push(rng() < 0.5
      ? `<circle cx="${x}" cy="${y}" r="${r}" fill="${colour()}" fill-opacity="0.8"/>`
      : `<rect x="${x - r}" y="${y - r}" width="${2 * r}" height="${Math.floor(r * (0.5 + rng()))}" fill="${colour()}" transform="rotate(${Math.floor(rng() * 90)} ${x} ${y})"/>`)
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${shapes.join('')}</svg>`
}

function noise(width: number, height: number, rng: Rng): Buffer {
  const pixels = Buffer.alloc(width * height * 3)
  for (let i = 0; i < pixels.length; i++) pixels[i] = 96 + Math.floor(rng() * 64)
  return pixels
}

const WORDS = ('the a of to and in that is was for on with as by at from it an be this which or are have not but had were one all their been has when there can more who will would what so about out up if into than them only other its some time new could these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three').split(' ')

/**
 * `sentences`: 64 English-like sentences of 3 to 120 words (so some exceed a 128-token
 * sequence and are truncated, most are padded), from a fixed word list and seed.
 */
export async function syntheticSentences(): Promise<DataItem[]> {
  const rng = seededRng(7)
  return Array.from({ length: 64 }, (_, i) => {
    const length = 3 + Math.floor(Math.pow(rng(), 2) * 118)
    const words = Array.from({ length }, () => WORDS[Math.floor(rng() * WORDS.length)]!)
    words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1)
    return { source: `sentences#${i}`, text: `${words.join(' ')}.` }
  })
}

/**
 * `videos`: 4 three-second clips (ffmpeg's testsrc2 pattern, MPEG-4 part 2, 10 frames a second)
 * at 320×240 to 1280×720. Built with ffmpeg, so it needs ffmpeg like the video processor.
 */
export async function syntheticVideos(ctx: DataSetContext): Promise<DataItem[]> {
  requireFfmpeg()
  return cached(ctx, 'videos', async (dir) => {
    for (const [i, size] of ['320x240', '640x480', '1280x720', '480x640'].entries()) {
      const out = join(dir, `clip-${i}-${size}.mp4`)
      const run = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=10:duration=3`, '-c:v', 'mpeg4', '-q:v', '5', '-y', out], { encoding: 'utf8', timeout: 60_000 })
      if (run.status !== 0) throw new Error(`ffmpeg could not build the synthetic video ${size}: ${run.stderr || run.error?.message}`)
    }
  })
}

/** Builds a data set's files once into the cache (atomically: a half-built folder is never read). */
async function cached(ctx: DataSetContext, name: string, build: (dir: string) => Promise<void>): Promise<DataItem[]> {
  const dir = join(ctx.cacheDir, 'data', `${name}-v${VERSION}`)
  if (!existsSync(dir)) {
    const partial = `${dir}.partial-${process.pid}`
    rmSync(partial, { recursive: true, force: true })
    mkdirSync(partial, { recursive: true })
    await build(partial)
    if (!existsSync(dir)) renameSync(partial, dir)
    else rmSync(partial, { recursive: true, force: true })
  }
  return readdirSync(dir).sort().map((file) => ({ source: join(dir, file), bytes: readFileSync(join(dir, file)) }))
}
