import { basename, extname } from 'node:path'
import * as ort from 'onnxruntime-node'
import { ORT_TO_V2, elementCount, type V2Datatype } from './datatypes.ts'
import { StatisticsRecorder } from './statistics.ts'

export interface TensorMetadata {
  name: string
  datatype: V2Datatype
  /** -1 for a dynamic dimension. */
  shape: number[]
}

export interface InputTensor {
  name: string
  datatype: V2Datatype
  shape: number[]
  data: ort.Tensor['data']
}

export interface OutputTensor {
  name: string
  datatype: V2Datatype
  shape: number[]
  data: ort.Tensor['data']
}

/** A request error the protocol reports as a bad request (HTTP 400, gRPC INVALID_ARGUMENT). */
export class BadRequestError extends Error {
  override name = 'BadRequestError'
}

/**
 * One served model: N onnxruntime sessions (instances) over the same file, its v2 metadata,
 * request validation and statistics. Scheduling (direct or dynamic batching) is done by the
 * scheduler that owns it.
 */
export class ServedModel {
  readonly version = '1'
  readonly stats: StatisticsRecorder
  private readonly idle: ort.InferenceSession[]
  private readonly waiters: Array<(s: ort.InferenceSession) => void> = []
  private readonly ortTypes: Map<string, ort.Tensor.Type>

  private constructor(
    readonly name: string,
    readonly path: string,
    private readonly sessions: ort.InferenceSession[],
    readonly inputs: TensorMetadata[],
    readonly outputs: TensorMetadata[],
  ) {
    this.idle = [...sessions]
    this.stats = new StatisticsRecorder(name, this.version)
    this.ortTypes = new Map(sessions[0]!.inputMetadata.flatMap((m) => (m.isTensor ? [[m.name, m.type] as const] : [])))
  }

  static async load(path: string, name: string | undefined, instances: number, options: ort.InferenceSession.SessionOptions = {}): Promise<ServedModel> {
    const sessions = await Promise.all(Array.from({ length: instances }, () => ort.InferenceSession.create(path, options)))
    const meta = (m: ort.InferenceSession.ValueMetadata): TensorMetadata => {
      if (!m.isTensor) throw new Error(`${path}: '${m.name}' is not a tensor; only tensor inputs and outputs can be served`)
      const datatype = ORT_TO_V2[m.type]
      if (!datatype) throw new Error(`${path}: '${m.name}' has type ${m.type}, which the v2 protocol server does not serve`)
      return { name: m.name, datatype, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) }
    }
    const first = sessions[0]!
    return new ServedModel(name ?? basename(path, extname(path)), path, sessions, first.inputMetadata.map(meta), first.outputMetadata.map(meta))
  }

  /** True when every input and output has a dynamic first dimension: requests can be merged along it. */
  get batchable(): boolean {
    return [...this.inputs, ...this.outputs].every((t) => t.shape[0] === -1)
  }

  /** Checks a request's tensors against the metadata; returns the batch (rows) it carries. */
  validate(tensors: InputTensor[]): number {
    const byName = new Map(tensors.map((t) => [t.name, t]))
    for (const t of tensors) {
      if (!this.inputs.some((i) => i.name === t.name)) {
        throw new BadRequestError(`unexpected input '${t.name}' for model '${this.name}'; inputs: ${this.inputs.map((i) => i.name).join(', ')}`)
      }
    }
    let rows = -1
    for (const meta of this.inputs) {
      const t = byName.get(meta.name)
      if (!t) throw new BadRequestError(`missing input '${meta.name}' for model '${this.name}'`)
      if (t.datatype !== meta.datatype) {
        throw new BadRequestError(`input '${meta.name}': datatype ${t.datatype} does not match the model's ${meta.datatype}`)
      }
      const fits = t.shape.length === meta.shape.length && meta.shape.every((d, i) => d === -1 || d === t.shape[i]) && t.shape.every((d) => Number.isInteger(d) && d >= 0)
      if (!fits) {
        throw new BadRequestError(`input '${meta.name}': shape [${t.shape.join(',')}] does not match the model's [${meta.shape.join(',')}] (-1 is dynamic)`)
      }
      const expected = elementCount(t.shape)
      if (t.data.length !== expected) {
        throw new BadRequestError(`input '${meta.name}': ${t.data.length} values for shape [${t.shape.join(',')}], expected ${expected}`)
      }
      if (rows === -1) rows = t.shape[0] ?? 1
      else if (this.batchable && t.shape[0] !== rows) throw new BadRequestError(`inputs disagree on the batch dimension (${rows} vs ${t.shape[0]} for '${meta.name}')`)
    }
    return rows
  }

  /** Runs the tensors on an idle instance, waiting for one if all are busy. */
  async run(tensors: InputTensor[]): Promise<{ outputs: OutputTensor[]; inferNs: number }> {
    const session = this.idle.pop() ?? (await new Promise<ort.InferenceSession>((resolve) => this.waiters.push(resolve)))
    try {
      const feeds: Record<string, ort.Tensor> = {}
      for (const t of tensors) feeds[t.name] = new ort.Tensor(this.ortTypes.get(t.name)!, t.data, t.shape)
      const start = process.hrtime.bigint()
      const result = await session.run(feeds)
      const inferNs = Number(process.hrtime.bigint() - start)
      const outputs = this.outputs.map((meta) => {
        const tensor = result[meta.name]!
        return { name: meta.name, datatype: meta.datatype, shape: [...tensor.dims], data: tensor.data }
      })
      return { outputs, inferNs }
    } finally {
      const next = this.waiters.shift()
      if (next) next(session)
      else this.idle.push(session)
    }
  }

  /** Instances not running anything right now. */
  get idleInstances(): number {
    return this.idle.length
  }

  async release(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.release()))
  }
}
