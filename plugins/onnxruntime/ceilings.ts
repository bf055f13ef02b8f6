import * as ort from 'onnxruntime-node'
import { DType, GraphBuilder } from '../models/onnx-builder.ts'

/** What this machine's CPU reaches through onnxruntime: the roofline's two ceilings. */
export interface MeasuredCeilings {
  /** FP32 FLOP/s of a large square MatMul, best of the runs. */
  peakFlops: number
  /** Bytes/s moved by a large element-wise Mul feeding a ReduceSum, best of the runs. */
  bandwidthBytesPerSec: number
  how: { matmulN: number; streamFloats: number; runs: number; threads: number | 'onnxruntime default' }
}

export interface CeilingOptions {
  /** MatMul size N (N×N by N×N: 2N³ FLOP). Default 1024. */
  matmulN?: number
  /** Floats per stream operand. Default 16M (64 MiB each, well past any cache). */
  streamFloats?: number
  /** Timed runs after one warm-up; the best counts (the ceiling, not the average). Default 5. */
  runs?: number
  /** onnxruntime intra-op threads; default onnxruntime's (one per physical core). */
  threads?: number
}

/**
 * Measures peak FP32 FLOP/s (a MatMul of N×N matrices: 2N³ FLOP per run) and memory bandwidth
 * (Mul of an input and a weight of `streamFloats` each, then ReduceSum: the kernels read both
 * operands, write the product and read it back, 16 bytes per float) through onnxruntime on this
 * machine. Both models are generated here with random weights; the best run counts.
 */
export async function measureCeilings(options: CeilingOptions = {}): Promise<MeasuredCeilings> {
  const n = options.matmulN ?? 1024
  const m = options.streamFloats ?? 16 * 1024 * 1024
  const runs = options.runs ?? 5
  const sessionOptions: ort.InferenceSession.SessionOptions = options.threads ? { intraOpNumThreads: options.threads } : {}

  const mm = new GraphBuilder('ceiling-matmul', 1)
  const a = mm.input('a', DType.FLOAT, [n, n])
  mm.node('MatMul', [a, mm.weight('b', [n, n], 1)], {}, ['c'])
  mm.output('c', DType.FLOAT, [n, n])
  const matmulSeconds = await bestRun(mm.build(), { a: new ort.Tensor('float32', randomFloats(n * n), [n, n]) }, runs, sessionOptions)

  const st = new GraphBuilder('ceiling-stream', 2)
  const x = st.input('x', DType.FLOAT, [m])
  const product = st.op('Mul', [x, st.weight('w', [m], 1)])
  st.node('ReduceSum', [product], { keepdims: 0 }, ['s'])
  st.output('s', DType.FLOAT, [])
  const streamSeconds = await bestRun(st.build(), { x: new ort.Tensor('float32', randomFloats(m), [m]) }, runs, sessionOptions)

  return {
    peakFlops: (2 * n ** 3) / matmulSeconds,
    bandwidthBytesPerSec: (16 * m) / streamSeconds,
    how: { matmulN: n, streamFloats: m, runs, threads: options.threads ?? 'onnxruntime default' },
  }
}

async function bestRun(model: Uint8Array, feeds: Record<string, ort.Tensor>, runs: number, options: ort.InferenceSession.SessionOptions): Promise<number> {
  const session = await ort.InferenceSession.create(model, options)
  try {
    await session.run(feeds)
    let best = Number.POSITIVE_INFINITY
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now()
      await session.run(feeds)
      best = Math.min(best, (performance.now() - t0) / 1000)
    }
    return best
  } finally {
    await session.release()
  }
}

function randomFloats(count: number): Float32Array {
  const data = new Float32Array(count)
  for (let i = 0; i < count; i++) data[i] = Math.random() - 0.5
  return data
}
