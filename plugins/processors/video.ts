import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { z } from 'zod'
import { framePreprocess, imageOptionsSchema } from './image.ts'

export const videoOptionsSchema = imageOptionsSchema.extend({
  /** Frames taken per second of video. */
  fps: z.number().positive().default(2),
  /** Frames per video from its start (default: 2 s at 2 a second); every item yields exactly this many, the last repeated if the video is shorter. */
  frames: z.number().int().positive().default(4),
  /** ffmpeg binary; default: `ffmpeg` on PATH. */
  ffmpeg: z.string().default('ffmpeg'),
}).strict()

export type VideoOptions = z.input<typeof videoOptionsSchema>

/** Checks ffmpeg once, with an error saying how to get it. */
export function requireFfmpeg(binary = 'ffmpeg'): void {
  const probe = spawnSync(binary, ['-version'], { encoding: 'utf8', timeout: 10_000 })
  if (probe.error || probe.status !== 0) {
    throw new Error(`the video processor needs ffmpeg, and '${binary}' ${probe.error ? `could not be run (${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message})` : `exited with ${probe.status}`}: install it (Debian/Ubuntu: apt-get install ffmpeg) or set the processor's 'ffmpeg' option to its path`)
  }
}

/**
 * Video pre-processing: ffmpeg decodes the encoded video (from a scratch file in memory: an MP4
 * whose index sits at its end cannot be read from a pipe), keeps `fps` frames a
 * second, scales each so its shorter side is `resize` and centre-crops it square (the image
 * chain's resize, done in the decoder), and writes raw RGB; each frame then takes the image
 * chain's crop and normalisation. Returns `frames` float32 CHW frames, one after another.
 */
export function videoPreprocess(options: VideoOptions = {}): (encoded: Uint8Array) => Promise<Float32Array> {
  const s = videoOptionsSchema.parse(options)
  requireFfmpeg(s.ffmpeg)
  const side = s.resize ?? Math.round(s.size * 256 / 224)
  const frame = framePreprocess({ size: s.size, resize: side, mean: s.mean, std: s.std, layout: s.layout })
  return async (encoded) => {
    const rgb = await decodeFrames(s.ffmpeg, encoded, s.fps, s.frames, side)
    const frameBytes = side * side * 3
    const count = Math.floor(rgb.length / frameBytes)
    if (count === 0) throw new Error('ffmpeg decoded no frame from this video')
    const plane = s.size * s.size * 3
    const out = new Float32Array(plane * s.frames)
    for (let f = 0; f < s.frames; f++) {
      const source = Math.min(f, count - 1)
      out.set(await frame({ data: rgb.subarray(source * frameBytes, (source + 1) * frameBytes), width: side, height: side }), f * plane)
    }
    return out
  }
}

// /dev/shm where there is one: the scratch copy should cost a memory copy, not a disk write.
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir()

async function decodeFrames(ffmpeg: string, encoded: Uint8Array, fps: number, frames: number, side: number): Promise<Buffer> {
  const dir = mkdtempSync(join(SCRATCH, 'inferbench-video-'))
  try {
    const file = join(dir, 'clip')
    writeFileSync(file, encoded)
    return await runFfmpeg(ffmpeg, file, fps, frames, side)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function runFfmpeg(ffmpeg: string, file: string, fps: number, frames: number, side: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-v', 'error', '-i', file, '-vf', `fps=${fps},scale=${side}:${side}:force_original_aspect_ratio=increase,crop=${side}:${side}`,
      '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-2000) })
    child.once('error', reject)
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out))
      else reject(new Error(`ffmpeg could not decode the video (exit ${code}): ${err.trim().split('\n').slice(-2).join(' | ')}`))
    })
  })
}
