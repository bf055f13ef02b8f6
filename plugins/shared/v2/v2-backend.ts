import { InferbenchError, requireModel, seedFromString, type Backend, type BackendContext } from '../../../core/plugin-api.ts'
import { onnxInputs } from '../inputs/onnx-inputs.ts'
import { synthesizeInputs } from '../inputs/synthesize.ts'
import { KserveGrpcClient } from './grpc-client.ts'
import { KserveHttpClient } from './http-client.ts'
import { toV2Inputs } from './v2-inputs.ts'

export interface V2Target {
  protocol: 'http' | 'grpc'
  /** http://host:port for HTTP; host:port for gRPC. */
  address: string
  modelName: string
  encoding: 'binary' | 'json'
  connections: number
  readyTimeoutMs: number
  intHigh: number
}

/**
 * A backend speaking KServe v2 to a running server: requests synthesised from the model's ONNX
 * inputs, prepared once, sent over HTTP (binary tensors by default) or gRPC.
 */
export async function createV2Backend(ctx: BackendContext, target: V2Target, extra: Partial<Backend> = {}): Promise<Backend> {
  const model = requireModel(ctx, 'kserve')
  const synthesised = synthesizeInputs(onnxInputs(model.bytes, model.name), {
    modelName: model.name, batch: ctx.batch, params: { ...model.dims, ...ctx.params }, intHigh: target.intHigh, seed: seedFromString(ctx.jobId),
  })
  const inputs = toV2Inputs(synthesised, model.name)
  const info = { protocol: target.protocol, address: target.address, modelName: target.modelName, inputs: synthesised.map(({ data: _d, ...rest }) => rest) }
  if (target.protocol === 'http') {
    const client = new KserveHttpClient(target.address, target.modelName, target.connections)
    try {
      await client.waitReady(target.readyTimeoutMs, ctx.signal)
      const meta = await client.getJson<{ name?: string; error?: string; inputs?: Array<{ name: string; shape?: number[] }>; outputs?: Array<{ name: string }> }>(`/v2/models/${encodeURIComponent(target.modelName)}`)
      if (meta.status !== 200) throw modelMissing(target, meta.body.error ?? `HTTP ${meta.status}`)
      const server = await client.getJson<{ name?: string; version?: string }>('/v2')
      const prepared = client.prepare(inputs, target.encoding)
      return {
        infer: () => client.infer(prepared),
        run: (tensors, outputs) => client.run(tensors, outputs),
        io: {
          inputs: (meta.body.inputs ?? []).map((i) => i.name), outputs: (meta.body.outputs ?? []).map((o) => o.name),
          shapes: Object.fromEntries((meta.body.inputs ?? []).filter((i) => Array.isArray(i.shape)).map((i) => [i.name, i.shape!])),
        },
        statistics: () => client.statistics(),
        close: async () => { await client.close(); await extra.close?.() },
        versions: { [`server:${server.body.name ?? 'kserve'}`]: server.body.version ?? 'unknown' },
        info: { ...info, ...extra.info },
        ...(extra.coldStart ? { coldStart: extra.coldStart } : {}),
        ...(extra.warmupConcurrency ? { warmupConcurrency: extra.warmupConcurrency } : {}),
        ...(extra.pids ? { pids: extra.pids } : {}),
        ...(extra.metricsUrl ? { metricsUrl: extra.metricsUrl } : {}),
        ...(extra.containers ? { containers: extra.containers } : {}),
      }
    } catch (error) {
      await client.close()
      throw error
    }
  }
  const client = new KserveGrpcClient(target.address, target.modelName)
  try {
    await client.waitReady(target.readyTimeoutMs, ctx.signal)
    await client.call('ModelMetadata', { name: target.modelName, version: '' }).catch((error: Error) => { throw modelMissing(target, error.message) })
    const server = await client.call<{ name: string; version: string }>('ServerMetadata', {})
    const prepared = client.prepare(inputs)
    return {
      infer: () => client.infer(prepared),
      statistics: () => client.statistics(),
      close: async () => { client.close(); await extra.close?.() },
      versions: { [`server:${server.name || 'kserve'}`]: server.version || 'unknown' },
      info: { ...info, ...extra.info },
      ...(extra.coldStart ? { coldStart: extra.coldStart } : {}),
      ...(extra.warmupConcurrency ? { warmupConcurrency: extra.warmupConcurrency } : {}),
      ...(extra.pids ? { pids: extra.pids } : {}),
      ...(extra.metricsUrl ? { metricsUrl: extra.metricsUrl } : {}),
      ...(extra.containers ? { containers: extra.containers } : {}),
    }
  } catch (error) {
    client.close()
    throw error
  }
}

function modelMissing(target: V2Target, detail: string): InferbenchError {
  return new InferbenchError('INFERBENCH_BACKEND_FAILED',
    `the server at ${target.address} does not serve model '${target.modelName}' (${detail}); set modelName to the name it serves`)
}
