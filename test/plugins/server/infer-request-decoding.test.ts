import { describe, expect, it } from 'vitest'
import { decodeInferRequest } from '../../../plugins/server/infer-request-decoding.ts'
import { PROTO_OPTIONS, loadKserveService } from '../../../plugins/shared/v2/service.ts'

// The server's proto-loader decoding (int64 as decimal strings) and a client's encoding.
const server = loadKserveService({ ...PROTO_OPTIONS, longs: String }).service.ModelInfer!
const client = loadKserveService({ ...PROTO_OPTIONS, longs: String }).service.ModelInfer!
const encode = (request: object) => Buffer.from(client.requestSerialize(request) as Uint8Array)

interface Decoded {
  parameters: object
  inputs: Array<{ shape: string[]; parameters: object; contents: unknown }>
  outputs: Array<{ parameters: object }>
}

/**
 * proto-loader's decoding, with shapes as numbers (ours reads them only where they are exact),
 * without the empty `parameters` and null `contents` ours does not build: they are checked to be
 * empty first, so nothing a request carried can be dropped unnoticed.
 */
function reference(bytes: Buffer): unknown {
  const { parameters, inputs, outputs, ...rest } = server.requestDeserialize(bytes) as Decoded
  expect(parameters).toEqual({})
  return {
    ...rest,
    inputs: inputs.map(({ parameters: p, contents, shape, ...input }) => {
      expect(p).toEqual({})
      expect(contents).toBeNull()
      return { ...input, shape: shape.map(Number) }
    }),
    outputs: outputs.map(({ parameters: p, ...output }) => {
      expect(p).toEqual({})
      return output
    }),
  }
}

const floats = (n: number, v: number) => Buffer.from(new Float32Array(n).fill(v).buffer)

const common: Array<[string, object]> = [
  ['one input in raw_input_contents', { model_name: 'model', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 256] }], raw_input_contents: [floats(256, 0.5)] }],
  ['several inputs, requested outputs, a version and an id', {
    model_name: 'bert', model_version: '1', id: 'req-7',
    inputs: [{ name: 'ids', datatype: 'INT64', shape: [8, 128] }, { name: 'mask', datatype: 'INT64', shape: [8, 128] }, { name: 'scalar', datatype: 'FP32', shape: [] }],
    outputs: [{ name: 'logits' }, { name: 'pooled' }],
    raw_input_contents: [Buffer.alloc(8192, 1), Buffer.alloc(8192, 2), floats(1, 3)],
  }],
  ['lengths of 128 bytes or more, multi-byte text, shapes past 2^32, a large payload', {
    model_name: 'modèle-λ'.repeat(30), id: '✓'.repeat(100),
    inputs: [{ name: 'i'.repeat(200), datatype: 'FP32', shape: [2 ** 40, 0, Number.MAX_SAFE_INTEGER, ...Array.from({ length: 70 }, (_, k) => 128 + k)] }],
    outputs: [{ name: 'o'.repeat(150) }],
    raw_input_contents: [floats(4_000, 1.25)],
  }],
  ['no inputs at all (the handler refuses it, not the decoder)', { model_name: 'x' }],
]

describe('ModelInferRequest decoding', () => {
  it.each(common)('reads what proto-loader reads: %s', (_name, request) => {
    const bytes = encode(request)
    const ours = decodeInferRequest(bytes)
    expect(ours).toBeDefined()
    expect(ours).toEqual(reference(bytes))
  })

  it('gives raw contents as views of the message, not copies', () => {
    const bytes = encode(common[0]![1])
    const raw = decodeInferRequest(bytes)!.raw_input_contents[0]!
    expect(raw.buffer).toBe(bytes.buffer)
    expect(raw.equals(floats(256, 0.5))).toBe(true)
  })

  it('reads a shape sent unpacked (one varint per dimension), as proto-loader does', () => {
    // inputs { name "x" (0a 01 78), shape 2 (18 02), shape 300 (18 ac 02) }; model_name "m".
    const bytes = Buffer.from([0x0a, 0x01, 0x6d, 0x2a, 0x08, 0x0a, 0x01, 0x78, 0x18, 0x02, 0x18, 0xac, 0x02])
    expect(decodeInferRequest(bytes)!.inputs[0]!.shape).toEqual([2, 300])
    expect(decodeInferRequest(bytes)).toEqual(reference(bytes))
  })

  const base = { model_name: 'model', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [floats(4, 1)] }
  it.each<[string, object]>([
    ['request parameters', { ...base, parameters: { priority: { int64_param: 1 } } }],
    ['input parameters', { ...base, inputs: [{ ...base.inputs[0], parameters: { binary_data_size: { int64_param: 16 } } }] }],
    ['output parameters', { ...base, outputs: [{ name: 'y', parameters: { classification: { int64_param: 3 } } }] }],
    ['typed contents', { model_name: 'model', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] }],
    ['a negative dimension', { ...base, inputs: [{ ...base.inputs[0], shape: [-1, 4] }] }],
    ['a dimension past 2^53', { ...base, inputs: [{ ...base.inputs[0], shape: ['9007199254740993', 4] }] }],
  ])('leaves a request with %s to proto-loader', (_name, request) => {
    const bytes = encode(request)
    expect(decodeInferRequest(bytes)).toBeUndefined()
    expect(server.requestDeserialize(bytes)).toBeDefined()
  })

  it('leaves a tag or a length written in more than five bytes to proto-loader, which reads those its own way', () => {
    // model_name "m" with its tag padded to six bytes, then id "z"; then the same with the length padded.
    for (const bytes of [Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 0x6d, 0x1a, 0x01, 0x7a]), Buffer.from([0x0a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x6d, 0x1a, 0x01, 0x7a])]) {
      expect(decodeInferRequest(bytes)).toBeUndefined()
    }
    // Padded to five bytes, both read the same.
    const five = Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x00, 0x01, 0x6d, 0x1a, 0x01, 0x7a])
    expect(decodeInferRequest(five)).toEqual(reference(five))
    expect(decodeInferRequest(five)!.model_name).toBe('m')
  })

  it('leaves an unknown field or a truncated message to proto-loader', () => {
    const bytes = encode(base)
    // field 15, varint 1: unknown to ModelInferRequest.
    expect(decodeInferRequest(Buffer.concat([bytes, Buffer.from([0x78, 0x01])]))).toBeUndefined()
    for (const cut of [1, 5, bytes.length - 1]) expect(decodeInferRequest(bytes.subarray(0, cut))).toBeUndefined()
  })
})
