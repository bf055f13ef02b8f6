import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import type { ModelGenerator } from '../../core/plugin.ts'
import { analyzeModel, analyzeOnnx } from '../../plugins/models/analysis/index.ts'
import { FAMILIES, ZOO } from '../../plugins/models/index.ts'
import { DType, GraphBuilder } from '../../plugins/models/onnx-builder.ts'
import { encoderBlock } from '../../plugins/models/transformer.ts'

async function runAt(generator: ModelGenerator, params: Record<string, unknown>, batches: number[]) {
  const bytes = await generator.generate(generator.normalize(params))
  const session = await ort.InferenceSession.create(bytes)
  const outputs: Array<Record<string, readonly number[]>> = []
  for (const batch of batches) {
    const feeds: Record<string, ort.Tensor> = {}
    for (const m of session.inputMetadata) {
      if (!m.isTensor) throw new Error('tensor inputs only')
      const shape = m.shape.map((d) => (typeof d === 'number' ? d : batch))
      const size = shape.reduce((a, b) => a * b, 1)
      feeds[m.name] = m.type === 'int64'
        ? new ort.Tensor('int64', new BigInt64Array(size).fill(1n), shape)
        : new ort.Tensor('float32', new Float32Array(size).fill(0.5), shape)
    }
    const result = await session.run(feeds)
    outputs.push(Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.dims])))
  }
  await session.release()
  return { bytes, outputs }
}

describe('canonical families run in onnxruntime at batch 1 and 4', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, number[]>]> = [
    ['fc', { layers: 2, width: 32, inputDim: 16, outputDim: 3, activation: 'gelu' }, { output: [4, 3] }],
    ['cnn', { layers: 2, channels: 8, imageSize: 16, kernel: 3 }, { output: [4, 10] }],
    ['lstm', { layers: 2, hidden: 16, seqLen: 5, inputDim: 8, outputDim: 3 }, { output: [4, 3] }],
    ['transformer', { layers: 2, hidden: 32, heads: 4, ffn: 64, seqLen: 8, vocab: 100 }, { last_hidden_state: [4, 8, 32] }],
  ]
  for (const [family, params, expected] of cases) {
    it(family, async () => {
      const { bytes, outputs } = await runAt(FAMILIES[family]!, params, [1, 4])
      expect(outputs[1]).toEqual(expected)
      // Deterministic: the same spec gives the same bytes.
      expect(await FAMILIES[family]!.generate(FAMILIES[family]!.normalize(params))).toEqual(bytes)
    })
  }

  it('rejects bad hyper-parameters naming the field', () => {
    expect(() => FAMILIES.transformer!.normalize({ hidden: 30, heads: 4 })).toThrow(/heads: hidden must be a multiple of heads/)
    expect(() => FAMILIES.cnn!.normalize({ kernel: 4 })).toThrow(/kernel: expected an odd kernel size/)
  })
})

describe('zoo architectures', () => {
  it('small ones run in onnxruntime at batch 1 and 4', async () => {
    for (const [name, params, output] of [
      ['resnet18', { imageSize: 64 }, [4, 1000]], ['mobilenet_v2', { imageSize: 64 }, [4, 1000]], ['lstm_textclf', { seqLen: 20 }, [4, 2]],
    ] as const) {
      const { outputs } = await runAt(ZOO[name]!, params, [1, 4])
      expect(outputs[1]!.output, name).toEqual(output)
    }
  })

  /**
   * Published figures. Parameters: torchvision's model docs (exact) and Hugging Face's BertModel
   * (exact; the BERT paper rounds them to 110M and 340M). MACs at 224×224: torchvision's
   * "GFLOPS" column, which counts multiply-accumulates. Our counts include BatchNormalization's
   * running mean and variance, which are weights in an ONNX file but buffers in PyTorch.
   */
  const published: Record<string, { params: number; macs?: number }> = {
    resnet18: { params: 11_689_512, macs: 1.81e9 },
    resnet50: { params: 25_557_032, macs: 4.09e9 },
    mobilenet_v2: { params: 3_504_872, macs: 0.30e9 },
    vgg16: { params: 138_357_544, macs: 15.47e9 },
    bert_base: { params: 109_482_240 },
    bert_large: { params: 335_141_888 },
  }
  for (const [name, figures] of Object.entries(published)) {
    it(`${name}: parameters within 1% and MACs within 5% of the published figures`, async () => {
      const generator = ZOO[name]!
      const analysis = analyzeOnnx(await generator.generate(generator.normalize({}), { weights: false }), { batch: 1 })
      expect(analysis.uncounted).toEqual([])
      expect(Math.abs(analysis.params / figures.params - 1)).toBeLessThan(0.01)
      if (figures.macs) expect(Math.abs(analysis.macs / figures.macs - 1)).toBeLessThan(0.05)
    })
  }

  it('BERT MACs match the closed form at sequence length 128', async () => {
    // Per layer and token: 4·H² (Q, K, V, output) + 2·H·4H (feed-forward); attention: 2·S·H per token.
    // Pooler: H².
    const [L, H, S] = [12, 768, 128]
    const expected = L * (S * (4 * H * H + 8 * H * H) + 2 * S * S * H) + H * H
    const a = analyzeOnnx(await ZOO.bert_base!.generate(ZOO.bert_base!.normalize({}), { weights: false }), { batch: 1 })
    expect(a.macs).toBe(expected)
    expect(a.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids'])
  })

  it('the rounded paper figure for BERT-large (340M) is 1.4% above the architecture it names', async () => {
    const a = analyzeOnnx(await ZOO.bert_large!.generate(ZOO.bert_large!.normalize({}), { weights: false }), { batch: 1 })
    expect(a.params / 340e6).toBeCloseTo(0.986, 2)
  })
})

describe('FLOP counting, by hand', () => {
  it('a Gemm: 2·M·K·N plus the bias add', () => {
    const g = new GraphBuilder('gemm', 1, { weights: false })
    g.input('x', DType.FLOAT, ['batch', 64])
    g.node('Gemm', ['x', g.weight('w', [64, 32], 1), g.weight('b', [32], 1)], {}, ['y'])
    g.output('y', DType.FLOAT, ['batch', 32])
    const a = analyzeModel(g.model(), { batch: 8 })
    expect(a.macs).toBe(8 * 64 * 32)
    expect(a.flops).toBe(2 * 8 * 64 * 32 + 8 * 32)
    expect(a.params).toBe(64 * 32 + 32)
    // Traffic: x (8·64), W (64·32), b (32), y (8·32) float32 values.
    expect(a.bytes).toBe(4 * (8 * 64 + 64 * 32 + 32 + 8 * 32))
    expect(a.intensity).toBeCloseTo(a.flops / a.bytes)
  })

  it('a strided, padded, grouped Conv', () => {
    const g = new GraphBuilder('conv', 1, { weights: false })
    g.input('x', DType.FLOAT, [2, 16, 32, 32])
    g.node('Conv', ['x', g.weight('w', [32, 4, 3, 3], 1)], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 4 }, ['y'])
    g.output('y', DType.FLOAT, [2, 32, 16, 16])
    const a = analyzeModel(g.model(), { batch: 2 })
    // Output 2×32×16×16; each output value sums (16/4)·3·3 = 36 products.
    expect(a.macs).toBe(2 * 32 * 16 * 16 * 36)
    expect(a.flops).toBe(2 * a.macs)
  })

  it('an attention block: projections, scores, softmax, context, feed-forward, norms', () => {
    const [B, S, H, heads, F] = [2, 10, 16, 4, 32]
    const g = new GraphBuilder('attention', 1, { weights: false })
    g.input('x', DType.FLOAT, ['batch', S, H])
    g.node('Identity', [encoderBlock(g, 'x', undefined, { hidden: H, heads, ffn: F }, 'l0')], {}, ['y'])
    g.output('y', DType.FLOAT, ['batch', S, H])
    const a = analyzeModel(g.model(), { batch: B })
    expect(a.uncounted).toEqual([])
    const projections = B * S * (4 * H * H + 2 * H * F)
    const attention = 2 * B * heads * S * S * (H / heads)
    expect(a.macs).toBe(projections + attention)
    const elementwise =
      B * S * (4 * H + F + H) // bias adds: Q, K, V, output, intermediate, output projection
      + B * heads * S * S // scale (Div)
      + 3 * B * heads * S * S // softmax
      + 2 * B * S * H // residual adds
      + 2 * 7 * B * S * H // two LayerNorms
      + 5 * B * S * F // GELU: Div, Erf, Add, Mul, Mul
    expect(a.flops).toBe(2 * a.macs + elementwise)
  })

  it('lists operators it cannot count instead of counting them as zero', () => {
    const g = new GraphBuilder('unknown', 1)
    g.input('x', DType.FLOAT, ['batch', 4])
    g.node('NonMaxSuppression', ['x'], {}, ['y'])
    g.node('Relu', ['y'], {}, ['z'])
    const a = analyzeModel(g.model(), { batch: 1 })
    expect(a.uncounted.map((u) => u.op)).toEqual(['NonMaxSuppression', 'Relu'])
    expect(a.uncounted[0]!.reason).toMatch(/no rule for operator NonMaxSuppression/)
    expect(a.uncounted[1]!.reason).toMatch(/shape of input unknown/)
  })
})
