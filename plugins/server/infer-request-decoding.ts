/**
 * ModelInferRequest (KServe v2 gRPC) read straight from protobuf wire format, for the server's
 * hottest request. proto-loader's deserializer decodes into message objects (a Long per int64)
 * and then converts those into plain objects; this reads the plain object in one pass.
 *
 * Only the common form is read: names, datatypes, shapes, requested outputs and
 * raw_input_contents. For anything else (parameters, typed `contents`, a dimension that is
 * negative or past 2^53, a field this does not know, a tag or length written in more than five
 * bytes, a malformed message) it returns undefined and the caller decodes with proto-loader,
 * exactly as before this decoder existed (proto-loader knows every field; what it does with a
 * malformed message is its own). A test holds the two decodings equal on what this one reads.
 */
/**
 * The fields the handler reads. proto-loader's object also has empty `parameters` and a null
 * `contents`; a request that carries either is left to proto-loader, so they are not built here.
 */
export interface DecodedInferRequest {
  model_name: string
  model_version: string
  id: string
  inputs: Array<{ name: string; datatype: string; shape: number[] }>
  outputs: Array<{ name: string }>
  raw_input_contents: Buffer[]
}

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited).
const MODEL_NAME = 1 << 3 | 2
const MODEL_VERSION = 2 << 3 | 2
const ID = 3 << 3 | 2
const INPUT = 5 << 3 | 2
const OUTPUT = 6 << 3 | 2
const RAW_INPUT = 7 << 3 | 2
const TENSOR_NAME = 1 << 3 | 2
const TENSOR_DATATYPE = 2 << 3 | 2
const SHAPE_PACKED = 3 << 3 | 2
const SHAPE_ONE = 3 << 3 | 0

/**
 * protobufjs reads a tag or a length as a uint32 of at most five bytes and reads a longer one
 * differently from the wire format (it skips five more bytes). Such a message is left to it, so
 * the two never read the same bytes two ways. A dimension (int64) may take up to eight bytes here.
 */
const UINT32_BYTES = 5
const DIMENSION_BYTES = 8

export function decodeInferRequest(bytes: Buffer): DecodedInferRequest | undefined {
  const r = new WireReader(bytes)
  const request: DecodedInferRequest = { model_name: '', model_version: '', id: '', inputs: [], outputs: [], raw_input_contents: [] }
  const end = bytes.length
  while (r.pos < end) {
    const tag = r.varint(end, UINT32_BYTES)
    if (tag !== MODEL_NAME && tag !== MODEL_VERSION && tag !== ID && tag !== INPUT && tag !== OUTPUT && tag !== RAW_INPUT) return undefined
    const fieldEnd = r.lengthDelimited(end)
    if (fieldEnd < 0) return undefined
    if (tag === INPUT) {
      const input = readInput(r, fieldEnd)
      if (!input) return undefined
      request.inputs.push(input)
    } else if (tag === OUTPUT) {
      const output = readOutput(r, fieldEnd)
      if (!output) return undefined
      request.outputs.push(output)
    } else if (tag === RAW_INPUT) {
      request.raw_input_contents.push(bytes.subarray(r.pos, fieldEnd))
    } else {
      const text = bytes.toString('utf8', r.pos, fieldEnd)
      if (tag === MODEL_NAME) request.model_name = text
      else if (tag === MODEL_VERSION) request.model_version = text
      else request.id = text
    }
    r.pos = fieldEnd
  }
  return request
}

function readInput(r: WireReader, end: number): DecodedInferRequest['inputs'][number] | undefined {
  const input = { name: '', datatype: '', shape: [] as number[] }
  while (r.pos < end) {
    const tag = r.varint(end, UINT32_BYTES)
    if (tag === SHAPE_ONE) {
      const dim = r.varint(end, DIMENSION_BYTES)
      if (dim < 0) return undefined
      input.shape.push(dim)
      continue
    }
    if (tag !== TENSOR_NAME && tag !== TENSOR_DATATYPE && tag !== SHAPE_PACKED) return undefined
    const fieldEnd = r.lengthDelimited(end)
    if (fieldEnd < 0) return undefined
    if (tag === SHAPE_PACKED) {
      while (r.pos < fieldEnd) {
        const dim = r.varint(fieldEnd, DIMENSION_BYTES)
        if (dim < 0) return undefined
        input.shape.push(dim)
      }
    } else {
      const text = r.bytes.toString('utf8', r.pos, fieldEnd)
      if (tag === TENSOR_NAME) input.name = text
      else input.datatype = text
    }
    r.pos = fieldEnd
  }
  return input
}

function readOutput(r: WireReader, end: number): DecodedInferRequest['outputs'][number] | undefined {
  const output = { name: '' }
  while (r.pos < end) {
    if (r.varint(end, UINT32_BYTES) !== TENSOR_NAME) return undefined
    const fieldEnd = r.lengthDelimited(end)
    if (fieldEnd < 0) return undefined
    output.name = r.bytes.toString('utf8', r.pos, fieldEnd)
    r.pos = fieldEnd
  }
  return output
}

class WireReader {
  pos = 0
  constructor(readonly bytes: Buffer) {}

  /**
   * A varint of at most `maxBytes` that ends before `end` and is below 2^53, or -1. Eight bytes
   * carry 56 bits: a longer one (a negative int64 takes ten) or a larger value is left to
   * proto-loader.
   */
  varint(end: number, maxBytes: number): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < maxBytes && this.pos < end; i++) {
      const byte = this.bytes[this.pos++]!
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value <= Number.MAX_SAFE_INTEGER ? value : -1
      scale *= 0x80
    }
    return -1
  }

  /** Reads a length prefix; the end of the field it announces, or -1 if that is past `end`. */
  lengthDelimited(end: number): number {
    const length = this.varint(end, UINT32_BYTES)
    return length < 0 || this.pos + length > end ? -1 : this.pos + length
  }
}
