import { z } from 'zod'
import { InferbenchError, backendOptions, connectionsFor, definePlugin, type BackendFactory, type Plugin } from '../../core/plugin-api.ts'
import { createV2Backend, type V2Target } from '../shared/v2/v2-backend.ts'

/** Options of the kserve/triton backends: plugin defaults, overridden by job parameters of the same names. */
const optionsSchema = z.object({
  /** http://host:port (HTTP) or grpc://host:port (gRPC). */
  url: z.string().optional(),
  protocol: z.enum(['http', 'grpc']).optional(),
  /** The name the server serves the model under; default the bench's model name. */
  modelName: z.string().optional(),
  encoding: z.enum(['binary', 'json']).default('binary'),
  /** Keep-alive connections at most (HTTP); default: as many as the workload keeps in flight. */
  connections: z.number().int().positive().optional(),
  readyTimeoutMs: z.number().int().positive().default(30_000),
  intHigh: z.number().int().positive().default(2),
})

export type KserveOptions = z.input<typeof optionsSchema>

function v2Factory(defaults: KserveOptions, fallbackUrl: Record<'http' | 'grpc', string> | undefined, backendName: string): BackendFactory {
  return async (ctx) => {
    const o = backendOptions(optionsSchema, ctx.params, defaults, backendName)
    const protocol = o.protocol ?? (o.url?.startsWith('grpc://') ? 'grpc' : 'http')
    const url = o.url ?? fallbackUrl?.[protocol]
    if (!url) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${backendName} backend: set url (e.g. url: 'http://127.0.0.1:8000') on the bench or describe`)
    const direct = protocol === 'grpc' ? url.replace(/^grpc:\/\//, '') : url
    const target: V2Target = {
      protocol, address: ctx.route ? await ctx.route(direct) : direct, modelName: o.modelName ?? (ctx.model?.name ?? '').replace(/@\d+$/, ''),
      encoding: o.encoding, connections: o.connections ?? connectionsFor(ctx), readyTimeoutMs: o.readyTimeoutMs, intHigh: o.intHigh,
    }
    return createV2Backend(ctx, target)
  }
}

/**
 * `kserve`: any KServe v2 server already running at `url` (Triton, KServe, MLServer, inferbench
 * serve). `triton`: the same with Triton's default ports (HTTP 8000, gRPC 8001).
 */
export function kserve(defaults: KserveOptions = {}): Plugin {
  return definePlugin({
    name: 'inferbench:kserve',
    backends: {
      kserve: v2Factory(defaults, undefined, 'kserve'),
      triton: v2Factory(defaults, { http: 'http://127.0.0.1:8000', grpc: '127.0.0.1:8001' }, 'triton'),
    },
    optionSchemas: { kserve: optionsSchema, triton: optionsSchema },
    routes: ['kserve', 'triton'],
  })
}
