import { z } from 'zod'
import {
  InferbenchError, backendOptions, definePlugin, requireModel, seedFromString, type Backend, type BackendContext, type BackendFactory, type Plugin,
} from '../../core/plugin-api.ts'
import { onnxInputs } from '../shared/inputs/onnx-inputs.ts'
import { synthesizeInputs } from '../shared/inputs/synthesize.ts'
import { TfServingGrpcClient } from './grpc-client.ts'
import { TfServingRestClient } from './rest-client.ts'

const optionsSchema = z.object({
  /** http://host:8501 (REST) or grpc://host:8500 (gRPC). */
  url: z.string().default('http://127.0.0.1:8501'),
  protocol: z.enum(['rest', 'grpc']).optional(),
  modelName: z.string().optional(),
  modelVersion: z.number().int().positive().optional(),
  signatureName: z.string().default('serving_default'),
  /** REST body format: `instances` (row) or `inputs` (columnar). */
  format: z.enum(['row', 'columnar']).default('row'),
  connections: z.number().int().positive().default(64),
  readyTimeoutMs: z.number().int().positive().default(30_000),
  intHigh: z.number().int().positive().default(2),
})

export type TfServingOptions = z.input<typeof optionsSchema>

/**
 * `tfserving`: a TensorFlow Serving client (REST :predict in row or columnar format, or gRPC
 * PredictionService/Predict) to a server at `url`. Requests are synthesised from the bench's
 * model (its ONNX inputs name and shape the tensors) and prepared once.
 */
export function tfserving(defaults: TfServingOptions = {}): Plugin {
  const factory: BackendFactory = (ctx) => createTfServingBackend(ctx, defaults)
  return definePlugin({ name: 'inferbench:tfserving', backends: { tfserving: factory }, optionSchemas: { tfserving: optionsSchema }, routes: ['tfserving'] })
}

/** A TF Serving client backend for one job: plugin defaults, overridden by job parameters of the same names. */
export async function createTfServingBackend(ctx: BackendContext, defaults: TfServingOptions, extra: Partial<Backend> = {}): Promise<Backend> {
  const o = backendOptions(optionsSchema, ctx.params, defaults, 'tfserving')
  const model = requireModel(ctx, 'tfserving')
  const protocol = o.protocol ?? (o.url.startsWith('grpc://') ? 'grpc' : 'rest')
  const url = ctx.route ? await ctx.route(o.url) : o.url
  const modelName = o.modelName ?? model.name.replace(/@\d+$/, '')
  const inputs = synthesizeInputs(onnxInputs(model.bytes, model.name), {
    modelName: model.name, batch: ctx.batch, params: { ...model.dims, ...ctx.params }, intHigh: o.intHigh, seed: seedFromString(ctx.jobId),
  })
  const info = { protocol, url: o.url, modelName, format: protocol === 'rest' ? o.format : 'tensor_content', inputs: inputs.map(({ data: _d, ...rest }) => rest) }
  if (protocol === 'rest') {
    const client = new TfServingRestClient(url, modelName, o.modelVersion, o.connections)
    try {
      await client.waitReady(o.readyTimeoutMs, ctx.signal)
      const body = client.prepare(inputs, o.format, o.signatureName)
      return { infer: () => client.predict(body), close: async () => { await client.close(); await extra.close?.() }, info: { ...info, ...extra.info }, ...(extra.coldStart ? { coldStart: extra.coldStart } : {}), ...(extra.containers ? { containers: extra.containers } : {}) }
    } catch (error) {
      await client.close()
      throw error
    }
  }
  const client = new TfServingGrpcClient(url.replace(/^grpc:\/\//, ''), modelName, o.modelVersion)
  try {
    await client.waitReady(o.readyTimeoutMs, ctx.signal)
    const request = client.prepare(inputs, o.signatureName)
    return {
      infer: () => client.predict(request).then(() => undefined), close: async () => { client.close(); await extra.close?.() },
      info: { ...info, ...extra.info }, ...(extra.coldStart ? { coldStart: extra.coldStart } : {}), ...(extra.containers ? { containers: extra.containers } : {}),
    }
  } catch (error) {
    client.close()
    throw error
  }
}
