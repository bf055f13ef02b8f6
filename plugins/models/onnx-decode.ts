import onnxProto from 'onnx-proto'
import type * as OnnxTypes from 'onnx-proto'
import { InferbenchError } from '../../core/plugin-api.ts'

const { onnx } = onnxProto

const PNG = [0x89, 0x50, 0x4e, 0x47]
const JPEG = [0xff, 0xd8, 0xff]
const ZIP = [0x50, 0x4b, 0x03, 0x04]

/**
 * Decodes ONNX bytes, or throws INFERBENCH_MODEL_INVALID saying in one line what the file is
 * instead: empty, an image, text, an archive, truncated at byte N, or protobuf without a graph.
 * `where` names the file (or model) in the message.
 */
export function decodeOnnxModel(bytes: Uint8Array, where: string): OnnxTypes.onnx.ModelProto {
  const invalid = (why: string, cause?: unknown) =>
    new InferbenchError('INFERBENCH_MODEL_INVALID', `${where} is not an ONNX model: ${why}`, cause === undefined ? {} : { cause })
  if (bytes.length === 0) throw invalid('the file is empty (0 bytes)')
  if (startsWith(bytes, PNG)) throw invalid('it is a PNG image')
  if (startsWith(bytes, JPEG)) throw invalid('it is a JPEG image')
  if (startsWith(bytes, ZIP)) throw invalid('it is a zip archive (a PyTorch .pt/.pth or a Keras file?); export the model to ONNX first')
  let model: OnnxTypes.onnx.ModelProto
  try {
    model = onnx.ModelProto.decode(bytes)
  } catch (error) {
    const message = (error as Error).message
    if (looksLikeText(bytes)) throw invalid(`it is a text file (${message})`, error)
    const truncated = /index out of range: (\d+) \+ (\d+) > (\d+)/.exec(message)
    if (truncated) throw invalid(`truncated at byte ${truncated[3]} (a field at byte ${truncated[1]} needs ${truncated[2]} more bytes); copy or download it again`, error)
    throw invalid(`not protobuf data (${message})`, error)
  }
  if (!model.graph || (model.graph.node ?? []).length === 0 && (model.graph.output ?? []).length === 0) {
    throw invalid(`it holds no ONNX graph (a truncated file, or protobuf of another kind)${looksLikeText(bytes) ? '; it looks like a text file' : ''}`)
  }
  return model
}

function startsWith(bytes: Uint8Array, magic: number[]): boolean {
  return magic.every((b, i) => bytes[i] === b)
}

function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512)
  let printable = 0
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++
  return printable / head.length > 0.95
}
