import * as ort from 'onnxruntime-node'
import {
  InferbenchError, backendOptions, definePlugin, requireModel, seedFromString, type Backend, type BackendFactory, type Plugin,
} from '../../core/plugin-api.ts'
import { ortOptionsSchema, parseOrtOptions, toSessionOptions, type OrtOptions } from './session-options.ts'
import { synthesizeInputs } from '../inputs/synthesize.ts'

/**
 * The in-process backend: an onnxruntime-node InferenceSession in the benchmark's own process.
 * Session options come from the plugin's options, overridden per job by matrix parameters of
 * the same names (`intraOpThreads: [1, 2]` sweeps them).
 */
export function onnxruntime(options: OrtOptions = {}): Plugin {
  const defaults = parseOrtOptions(options, 'onnxruntime() options')
  const factory: BackendFactory = async (ctx) => {
    const model = requireModel(ctx, 'onnxruntime')
    const effective = backendOptions(ortOptionsSchema, ctx.params, defaults, 'onnxruntime')
    const sessionOptions = toSessionOptions(effective)
    let session: ort.InferenceSession
    try {
      session = await ort.InferenceSession.create(model.path, sessionOptions)
    } catch (error) {
      throw new InferbenchError('INFERBENCH_MODEL_UNLOADABLE',
        `onnxruntime could not load model ${model.name} (${model.path}): ${(error as Error).message}`, { cause: error })
    }
    try {
      const descriptors = session.inputMetadata.map((m) => {
        if (!m.isTensor) {
          throw new InferbenchError('INFERBENCH_INPUT_UNSYNTHESISABLE', `model ${model.name}: input '${m.name}' is not a tensor (a sequence or map); inferbench can only synthesise tensor inputs`)
        }
        return { name: m.name, type: m.type, shape: m.shape }
      })
      const synthesised = synthesizeInputs(descriptors, {
        modelName: model.name, batch: ctx.batch, params: { ...model.dims, ...ctx.params }, intHigh: effective.intHigh ?? 2,
        seed: seedFromString(ctx.jobId),
      })
      const feeds = Object.fromEntries(synthesised.map((i) => [i.name, new ort.Tensor(i.type as ort.Tensor.Type, i.data, i.shape)]))
      const inputs = synthesised.map(({ data: _data, ...rest }) => rest)
      const backend: Backend = {
        infer: () => session.run(feeds).then(noAnswer),
        close: () => session.release(),
        versions: { 'onnxruntime-node': ort.env.versions.node ?? 'unknown' },
        info: {
          inputs,
          outputs: session.outputMetadata.map((m) => ({ name: m.name, ...(m.isTensor ? { type: m.type, shape: m.shape } : {}) })),
          sessionOptions,
        },
      }
      return backend
    } catch (error) {
      await session.release()
      throw error
    }
  }
  return definePlugin({ name: 'inferbench:onnxruntime', backends: { onnxruntime: factory } })
}

// The outputs are not needed: dropping them lets the answer be collected at once.
function noAnswer(): void {}
