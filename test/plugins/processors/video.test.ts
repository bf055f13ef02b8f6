import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { videoPreprocess } from '../../../plugins/processors/index.ts'
import { syntheticVideos } from '../../../plugins/processors/data-sets.ts'
import { TEST_CACHE_DIR } from '../../helpers/temp-project.ts'

const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0

describe('video pre-processing (ffmpeg)', () => {
  it.runIf(hasFfmpeg)(`decodes frames at the asked rate through the image chain${hasFfmpeg ? '' : ' (skipped: no ffmpeg on PATH)'}`, async () => {
    const clips = await syntheticVideos({ cacheDir: TEST_CACHE_DIR })
    expect(clips).toHaveLength(4)
    // 3-second clips at 2 frames a second give 6 frames; asking for 4 takes the first 4.
    const out = await videoPreprocess({ fps: 2, frames: 4, size: 32, resize: 32 })(clips[0]!.bytes!)
    expect(out.length).toBe(4 * 3 * 32 * 32)
    // testsrc2 moves: successive frames differ.
    const plane = 3 * 32 * 32
    let diff = 0
    for (let i = 0; i < plane; i++) diff += Math.abs(out[i]! - out[plane + i]!)
    expect(diff / plane).toBeGreaterThan(0.01)
    // A clip shorter than `frames`: the last frame repeats, the tensor keeps its size.
    const padded = await videoPreprocess({ fps: 1, frames: 5, size: 16, resize: 16 })(clips[0]!.bytes!)
    expect(padded.length).toBe(5 * 3 * 16 * 16)
    expect(Array.from(padded.subarray(3 * 768, 4 * 768))).toEqual(Array.from(padded.subarray(4 * 768, 5 * 768)))
    await expect(videoPreprocess({ frames: 1 })(Buffer.from('not a video'))).rejects.toThrow(/ffmpeg could not decode the video/)
  })

  it('says how to get ffmpeg when it is missing', () => {
    expect(() => videoPreprocess({ ffmpeg: '/nonexistent/ffmpeg' })).toThrow(/needs ffmpeg.*apt-get install ffmpeg/)
  })
})
