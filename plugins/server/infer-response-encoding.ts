/**
 * ModelInferResponse (KServe v2 gRPC) written straight to protobuf wire format, for the server's
 * hottest answer. proto-loader's serializer first converts the plain object into message objects
 * (fromObject: a Long per int64, a message per map entry) and then encodes those; this sizes the
 * message first and then writes it into one buffer. What it saved is in docs/overhead.md; a test
 * holds the encoding byte for byte equal to proto-loader's. Only the fields below are written:
 * the handler's answer is typed with this interface, so a field added there must be added here.
 */
export interface InferResponseFields {
  model_name: string
  model_version: string
  id: string
  /** int64 parameters only (the answer's timings). */
  parameters: Record<string, { int64_param: number }>
  outputs: Array<{ name: string; datatype: string; shape: readonly number[] }>
  raw_output_contents: Uint8Array[]
}

const LENGTH_DELIMITED = 2
const VARINT = 0

export function encodeInferResponse(response: InferResponseFields): Buffer {
  const params = Object.entries(response.parameters).map(([key, p]) => {
    checkInt64(p.int64_param, 'parameter', key)
    const keyBytes = Buffer.byteLength(key)
    const parameter = 1 + varintSize(p.int64_param) // InferParameter { int64 int64_param = 2 }
    return { key, keyBytes, value: p.int64_param, parameter, entry: 1 + varintSize(keyBytes) + keyBytes + 1 + varintSize(parameter) + parameter }
  })
  const outputs = response.outputs.map((o) => {
    let shapeBytes = 0
    for (const d of o.shape) shapeBytes += varintSize(checkInt64(d, 'output', o.name))
    return { o, shapeBytes, size: stringFieldSize(o.name) + stringFieldSize(o.datatype) + (o.shape.length ? 1 + varintSize(shapeBytes) + shapeBytes : 0) }
  })
  let total = stringFieldSize(response.model_name) + stringFieldSize(response.model_version) + stringFieldSize(response.id)
  for (const p of params) total += 1 + varintSize(p.entry) + p.entry
  for (const o of outputs) total += 1 + varintSize(o.size) + o.size
  for (const raw of response.raw_output_contents) total += 1 + varintSize(raw.byteLength) + raw.byteLength

  const out = new WireWriter(Buffer.allocUnsafe(total))
  out.string(1, response.model_name)
  out.string(2, response.model_version)
  out.string(3, response.id)
  for (const p of params) {
    // A map entry { key = 1; value = 2 }; a map key is written even when empty.
    out.tag(4, LENGTH_DELIMITED).varint(p.entry)
    out.tag(1, LENGTH_DELIMITED).varint(p.keyBytes).text(p.key)
    out.tag(2, LENGTH_DELIMITED).varint(p.parameter).tag(2, VARINT).varint(p.value)
  }
  for (const { o, shapeBytes, size } of outputs) {
    out.tag(5, LENGTH_DELIMITED).varint(size)
    out.string(1, o.name)
    out.string(2, o.datatype)
    if (o.shape.length) { // packed repeated int64
      out.tag(3, LENGTH_DELIMITED).varint(shapeBytes)
      for (const d of o.shape) out.varint(d)
    }
  }
  for (const raw of response.raw_output_contents) out.tag(6, LENGTH_DELIMITED).varint(raw.byteLength).bytes(raw)
  return out.buffer
}

/** A string field; written even when empty, as proto-loader writes a field that is present. */
function stringFieldSize(text: string): number {
  const bytes = Buffer.byteLength(text)
  return 1 + varintSize(bytes) + bytes
}

/**
 * Refused before anything is written: a fraction or a number past 2^53 has no exact int64 (proto-
 * loader would truncate or round it). The server logs the message; the client gets INTERNAL.
 */
function checkInt64(value: number, field: 'parameter' | 'output', name: string): number {
  if (Number.isSafeInteger(value)) return value
  // The message is built only here: the check runs for every value of every answer.
  const what = field === 'parameter' ? `parameter '${name}'` : `output '${name}' shape`
  throw new RangeError(`cannot encode the answer: ${what} is ${value}, not an integer of at most 2^53 in magnitude`)
}

/** Bytes of an integer as an int64 varint (a negative one takes ten: two's complement in 64 bits). */
function varintSize(value: number): number {
  if (value < 0) return 10
  let size = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    size++
  }
  return size
}

class WireWriter {
  private at = 0
  constructor(readonly buffer: Buffer) {}

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType)
  }

  /** `value` is a safe integer (checkInt64, or a length). */
  varint(value: number): this {
    if (value < 0) return this.negative(value)
    while (value >= 128) {
      this.buffer[this.at++] = (value % 128) | 128
      value = Math.floor(value / 128)
    }
    this.buffer[this.at++] = value
    return this
  }

  private negative(value: number): this {
    let bits = BigInt.asUintN(64, BigInt(value))
    for (let i = 0; i < 9; i++) {
      this.buffer[this.at++] = Number(bits & 127n) | 128
      bits >>= 7n
    }
    this.buffer[this.at++] = Number(bits)
    return this
  }

  text(text: string): this {
    this.at += this.buffer.write(text, this.at, 'utf8')
    return this
  }

  string(field: number, text: string): this {
    return this.tag(field, LENGTH_DELIMITED).varint(Buffer.byteLength(text)).text(text)
  }

  bytes(data: Uint8Array): this {
    this.buffer.set(data, this.at)
    this.at += data.byteLength
    return this
  }
}
