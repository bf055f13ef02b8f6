import { describe, expect, it } from 'vitest'
import { encodeInferResponse, type InferResponseFields } from '../../../plugins/server/infer-response-encoding.ts'
import { PROTO_OPTIONS, loadKserveService } from '../../../plugins/shared/v2/service.ts'

const modelInfer = loadKserveService({ ...PROTO_OPTIONS, longs: String }).service.ModelInfer!
const reference = (r: InferResponseFields) => Buffer.from(modelInfer.responseSerialize(r) as Uint8Array)

const floats = (n: number, v: number) => new Uint8Array(new Float32Array(n).fill(v).buffer)

const cases: Array<[string, InferResponseFields]> = [
  ['an answer with its timings', {
    model_name: 'model', model_version: '1', id: 'req-7',
    parameters: { queue_us: { int64_param: 12 }, compute_us: { int64_param: 123_456 }, batch_rows: { int64_param: 1 } },
    outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 256] }], raw_output_contents: [floats(256, 0.5)],
  }],
  ['several outputs, a scalar, an empty id and empty raw contents', {
    model_name: 'm', model_version: '1', id: '',
    parameters: { queue_us: { int64_param: 0 } },
    outputs: [{ name: 'a', datatype: 'INT64', shape: [] }, { name: 'b', datatype: 'FP32', shape: [0, 4] }, { name: 'c', datatype: 'UINT8', shape: [3] }],
    raw_output_contents: [new Uint8Array(8), new Uint8Array(0), new Uint8Array([1, 2, 3])],
  }],
  ['large and negative int64 values, multi-byte text, a large payload', {
    model_name: 'modèle-λ', model_version: '', id: '✓'.repeat(100),
    parameters: { big: { int64_param: 2 ** 40 + 3 }, safe: { int64_param: Number.MAX_SAFE_INTEGER }, minus: { int64_param: -5 }, '': { int64_param: 127 }, edge: { int64_param: 128 } },
    outputs: [{ name: 'logits', datatype: 'FP32', shape: [16, 1000, 300] }], raw_output_contents: [floats(40_000, 1.25)],
  }],
  ['lengths of 128 bytes or more: a long output name and parameter key, a long packed shape', {
    model_name: 'n'.repeat(300), model_version: '1', id: 'i'.repeat(130),
    parameters: { ['k'.repeat(200)]: { int64_param: 2 ** 35 } },
    outputs: [{ name: 'o'.repeat(200), datatype: 'FP32', shape: Array.from({ length: 70 }, (_, i) => 128 + i) }], raw_output_contents: [floats(40, 2)],
  }],
  ['no outputs and no parameters', { model_name: 'x', model_version: '1', id: 'q', parameters: {}, outputs: [], raw_output_contents: [] }],
]

describe('ModelInferResponse encoding', () => {
  it.each(cases)('writes the same bytes as proto-loader: %s', (_name, response) => {
    const ours = encodeInferResponse(response)
    expect(ours.length).toBe(reference(response).length)
    expect(ours.equals(reference(response))).toBe(true)
  })

  it('decodes with the service definition to the fields it was given', () => {
    const [, response] = cases[2]!
    const decoded = modelInfer.responseDeserialize(encodeInferResponse(response)) as Record<string, unknown> & { parameters: Record<string, { int64_param: string }>; outputs: Array<{ shape: string[] }>; raw_output_contents: Buffer[] }
    expect(decoded.model_name).toBe('modèle-λ')
    expect(decoded.parameters.big!.int64_param).toBe(String(2 ** 40 + 3))
    expect(decoded.parameters.minus!.int64_param).toBe('-5')
    expect(decoded.outputs[0]!.shape).toEqual(['16', '1000', '300'])
    expect(Buffer.from(decoded.raw_output_contents[0]!).equals(Buffer.from(response.raw_output_contents[0]!))).toBe(true)
  })

  it.each([1.5, 2 ** 53, Infinity, Number.NaN])('refuses %s, naming the field, instead of writing a wrong int64', (bad) => {
    const [, response] = cases[0]!
    expect(() => encodeInferResponse({ ...response, parameters: { queue_us: { int64_param: bad } } })).toThrow(new RegExp(`parameter 'queue_us' is ${bad}`))
    expect(() => encodeInferResponse({ ...response, outputs: [{ name: 'output', datatype: 'FP32', shape: [1, bad] }] })).toThrow(/output 'output' shape/)
  })
})
