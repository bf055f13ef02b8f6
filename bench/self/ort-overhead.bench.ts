import * as ort from 'onnxruntime-node'
import { afterAll, beforeAll, bench, describe, model, workload } from 'inferbench'
import { buildFc, type FcParams } from '../../plugins/models/fc.ts'

/**
 * The framework's cost over a bare `session.run` loop on the same model, batch and machine, in
 * one run. Rounds alternate bare loop and framework job (ABAB...): each framework job is judged
 * against the mean of the bare loops just before and just after it, so slow drift of the machine
 * favours neither side, and the median over rounds damps the rest of the noise.
 * Target: under 3% at batch 1 on a model of about 1 ms.
 */
const SLICE_MS = 2000
const ROUNDS = [1, 2, 3, 4, 5]
const TARGET_OVERHEAD_PCT = 3

async function bareLoop(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, ms: number): Promise<number> {
  let n = 0
  const start = performance.now()
  const end = start + ms
  while (performance.now() < end) {
    await session.run(feeds)
    n++
  }
  return n / ((performance.now() - start) / 1000)
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

function overheadSuite(title: string, spec: FcParams, failAbovePct?: number) {
  let session: ort.InferenceSession
  let feeds: Record<string, ort.Tensor>
  let before = 0
  const ratios: number[] = []
  describe(title, { model: model.generate('fc', { ...spec }), backend: 'onnxruntime', batch: 1, round: ROUNDS }, () => {
    beforeAll(async () => {
      session = await ort.InferenceSession.create(buildFc(spec))
      feeds = { input: new ort.Tensor('float32', new Float32Array(spec.inputDim).map(Math.random), [1, spec.inputDim]) }
      await bareLoop(session, feeds, 500)
      before = await bareLoop(session, feeds, SLICE_MS)
    })
    afterAll(() => session.release())

    bench('framework vs bare session.run', {
      workload: workload.closed({ concurrency: 1, duration: SLICE_MS }),
      warmup: '200ms',
    }, async (result) => {
      const after = await bareLoop(session, feeds, SLICE_MS)
      const bare = (before + after) / 2
      before = after
      const framework = result.throughput.requestsPerSec
      ratios.push(framework / bare)
      const figures: Record<string, number> = {
        bareReqPerSec: bare, frameworkReqPerSec: framework, ratio: framework / bare,
        overheadUsPerRequest: 1e6 / framework - 1e6 / bare,
      }
      if (ratios.length < ROUNDS.length) return figures
      const medianRatio = median(ratios)
      const medianOverheadPct = (1 - medianRatio) * 100
      if (failAbovePct !== undefined && medianOverheadPct > failAbovePct) {
        throw new Error(`framework costs ${medianOverheadPct.toFixed(2)}% (median of ${ratios.length} rounds) over a bare session.run loop; target < ${failAbovePct}%`)
      }
      return { ...figures, medianRatio, medianOverheadPct }
    })
  })
}

// About 1.5 ms per inference on a 2-core Xeon: the case the target is set for.
overheadSuite('overhead on a ~1 ms MLP', { layers: 4, width: 2048, inputDim: 2048, outputDim: 1000, activation: 'relu' }, TARGET_OVERHEAD_PCT)
// A ~10 µs model: the per-request cost in absolute terms (reported, not judged).
overheadSuite('overhead on a ~10 µs MLP', { layers: 2, width: 128, inputDim: 128, outputDim: 10, activation: 'relu' })
