import * as ort from 'onnxruntime-node'
import {
  InferbenchError, backendOptions, definePlugin, requireModel, seedFromString, type Backend, type BackendContext, type BackendFactory,
  type Plugin, type ResolvedModel, type Tensor, type TensorMap,
} from '../../core/plugin-api.ts'
import { onnxInputs } from '../shared/inputs/onnx-inputs.ts'
import { synthesizeInputs, type InputDescriptor, type SynthesisedInput } from '../shared/inputs/synthesize.ts'
import { ortOptionsSchema, parseOrtOptions, providerHint, toSessionOptions, type OrtOptions } from './session-options.ts'
import { WorkerSessionPool } from './worker-pool.ts'

type Options = ReturnType<typeof parseOrtOptions>

/**
 * The in-process backend: onnxruntime-node sessions in the benchmark's own process. Session
 * options come from the plugin's options, overridden per job by matrix parameters of the same
 * names (`intraOpThreads: [1, 2]` sweeps them).
 *
 * onnxruntime-node runs inference synchronously on the calling thread. One session serves one
 * request at a time wherever it runs, so a single instance under one closed-loop client or an
 * open loop runs on the main thread: a send held back by a run waits just as it would in the
 * session's queue (latency still counts from the intended time), and no thread hand-off is paid.
 * Measured against the queueing prediction (docs/overhead.md), the worker hand-off cost a
 * 0.4-0.6 ms wake-up per request on 2 cores. Several clients or several instances run the
 * sessions in worker threads, so `instances` sessions serve in parallel (`thread` decides).
 */
export function onnxruntime(options: OrtOptions = {}): Plugin {
  const defaults = parseOrtOptions(options, 'onnxruntime() options')
  const factory: BackendFactory = async (ctx) => {
    const model = requireModel(ctx, 'onnxruntime')
    const effective = backendOptions(ortOptionsSchema, ctx.params, defaults, 'onnxruntime')
    const onMain = effective.thread === 'main'
      || (effective.thread === 'auto' && effective.instances === 1 && (ctx.load?.open === true || (ctx.load?.concurrency ?? 1) === 1))
    if (!onMain) return workerBackend(ctx, model, effective)
    // Under an open loop on the generator's thread, spinning intra-op threads take the core the
    // generator needs to wake on time (measured on 2 cores: 8-22 of 1,169 sends late and p99 1.6-3.1x
    // the queueing prediction with spinning; 2-4 late and p99 1.02-1.09x without; docs/overhead.md).
    const open = ctx.load?.open === true && effective.allowSpinning === undefined
    return mainThreadBackend(ctx, model, open ? { ...effective, allowSpinning: false } : effective)
  }
  return definePlugin({ name: 'inferbench:onnxruntime', backends: { onnxruntime: factory }, optionSchemas: { onnxruntime: ortOptionsSchema } })
}

async function mainThreadBackend(ctx: BackendContext, model: ResolvedModel, options: Options): Promise<Backend> {
  const sessionOptions = toSessionOptions(options)
  let session: ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(model.path, sessionOptions)
  } catch (error) {
    throw unloadable(model, error)
  }
  try {
    const descriptors = session.inputMetadata.map((m): InputDescriptor => {
      if (!m.isTensor) {
        throw new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `model ${model.name}: input '${m.name}' is not a tensor (a sequence or map); inferbench can only synthesise tensor inputs`)
      }
      return { name: m.name, type: m.type, shape: m.shape }
    })
    const synthesised = synthesize(ctx, model, descriptors, options)
    const feeds = Object.fromEntries(synthesised.map((i) => [i.name, new ort.Tensor(i.type as ort.Tensor.Type, i.data, i.shape)]))
    return {
      infer: () => session.run(feeds).then(noAnswer),
      run: async (inputs, outputs) => ({ outputs: fromOrtOutputs(await (outputs ? session.run(toOrtFeeds(inputs), outputs) : session.run(toOrtFeeds(inputs)))) }),
      io: {
        inputs: [...session.inputNames], outputs: [...session.outputNames],
        shapes: Object.fromEntries(session.inputMetadata.filter((m) => m.isTensor).map((m) => [m.name, [...(m as unknown as { shape: ReadonlyArray<number | string> }).shape]])),
      },
      close: () => session.release(),
      blocksCaller: true,
      versions: { 'onnxruntime-node': ort.env.versions.node ?? 'unknown' },
      info: {
        thread: 'main', inputs: describe(synthesised),
        outputs: session.outputMetadata.map((m) => ({ name: m.name, ...(m.isTensor ? { type: m.type, shape: m.shape } : {}) })),
        sessionOptions,
      },
    }
  } catch (error) {
    await session.release()
    throw error
  }
}

async function workerBackend(ctx: BackendContext, model: ResolvedModel, options: Options): Promise<Backend> {
  const sessionOptions = toSessionOptions(options)
  const synthesised = synthesize(ctx, model, onnxInputs(model.bytes, model.name), options)
  let pool: WorkerSessionPool
  try {
    pool = await WorkerSessionPool.start(model.path, sessionOptions, synthesised, options.instances,
      (error) => ctx.fail(new InferbenchError('INFERBENCH_BACKEND_DIED', `${error.message} while serving model ${model.name}`, { cause: error })))
  } catch (error) {
    throw unloadable(model, error)
  }
  return {
    infer: () => pool.run(),
    run: (inputs, outputs) => pool.runWith(inputs, outputs),
    io: pool.io,
    close: () => pool.close(),
    versions: { 'onnxruntime-node': ort.env.versions.node ?? 'unknown' },
    info: { thread: 'worker', instances: options.instances, inputs: describe(synthesised), sessionOptions },
    warmupConcurrency: options.instances,
  }
}

function synthesize(ctx: BackendContext, model: ResolvedModel, descriptors: InputDescriptor[], options: Options): SynthesisedInput[] {
  return synthesizeInputs(descriptors, {
    modelName: model.name, batch: ctx.batch, params: { ...model.dims, ...ctx.params }, intHigh: options.intHigh ?? 2,
    seed: seedFromString(ctx.jobId),
  })
}

function describe(inputs: SynthesisedInput[]) {
  return inputs.map(({ data: _data, ...rest }) => rest)
}

function unloadable(model: ResolvedModel, error: unknown): InferbenchError {
  return new InferbenchError('INFERBENCH_MODEL_UNLOADABLE',
    `onnxruntime could not load model ${model.name} (${model.path}): ${(error as Error).message}${providerHint((error as Error).message)}`, { cause: error })
}

/** A pipeline's tensors as onnxruntime feeds ('bytes' has no ONNX type: only a server takes raw items). */
export function toOrtFeeds(inputs: TensorMap): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(inputs).map(([name, t]) => {
    if (t.type === 'bytes') throw new Error(`input '${name}' holds raw bytes; onnxruntime takes tensors (pre-process on the client)`)
    return [name, new ort.Tensor(t.type, t.data as Exclude<Tensor['data'], Uint8Array[]>, t.dims)]
  }))
}

export function fromOrtOutputs(outputs: ort.InferenceSession.ReturnType): TensorMap {
  return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { type: t.type as Tensor['type'], dims: [...t.dims], data: t.data as Tensor['data'] }]))
}

// The outputs are not needed: dropping them lets the answer be collected at once.
function noAnswer(): void {}
