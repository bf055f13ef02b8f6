import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { imagePreprocess, IMAGENET_MEAN, IMAGENET_STD } from '../../../plugins/processors/index.ts'
import { syntheticImages } from '../../../plugins/processors/data-sets.ts'
import { TEST_CACHE_DIR } from '../../helpers/temp-project.ts'

describe('image pre-processing (sharp)', () => {
  it('gives the hand-computed CHW tensor of a tiny image', async () => {
    // 2×2 PNG: red, green / blue, white. At size 2 with resize 2 nothing is resampled.
    const pixels = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
    const png = await sharp(pixels, { raw: { width: 2, height: 2, channels: 3 } }).png().toBuffer()
    const out = await imagePreprocess({ size: 2, resize: 2 })(png)
    const n = (v: number, c: number) => (v / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!
    const expected = [
      n(255, 0), n(0, 0), n(0, 0), n(255, 0), // R plane: red, green, blue, white
      n(0, 1), n(255, 1), n(0, 1), n(255, 1), // G plane
      n(0, 2), n(0, 2), n(255, 2), n(255, 2), // B plane
    ]
    expect(Array.from(out).map((v) => +v.toFixed(4))).toEqual(expected.map((v) => +v.toFixed(4)))
    const hwc = await imagePreprocess({ size: 2, resize: 2, layout: 'NHWC', mean: [0, 0, 0], std: [1, 1, 1] })(png)
    expect(Array.from(hwc)).toEqual(Array.from(pixels).map((v) => v / 255))
  })

  it('resizes the shorter side and centre-crops like sharp\'s own cover resize, within a tolerance', async () => {
    const [photo] = (await syntheticImages({ cacheDir: TEST_CACHE_DIR })).filter((i) => i.source.includes('1280x720'))
    const out = await imagePreprocess({ size: 224, resize: 224, mean: [0, 0, 0], std: [1, 1, 1] })(photo!.bytes!)
    const { data } = await sharp(photo!.bytes!).resize(224, 224, { fit: 'cover', position: 'centre', kernel: 'lanczos3' }).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    let diff = 0
    const plane = 224 * 224
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) diff += Math.abs(out[c * plane + p]! * 255 - data[p * 3 + c]!)
    // Same kernel, crop offsets may differ by a pixel: mean error under 3 of 255 levels.
    expect(diff / (plane * 3)).toBeLessThan(3)
    expect(out.length).toBe(3 * plane)
  })

  it('names a file it cannot decode', async () => {
    await expect(imagePreprocess()(Buffer.from('not an image'))).rejects.toThrow(/unsupported image format/)
  })
})
