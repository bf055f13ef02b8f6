import { z } from 'zod'
import { backendOptions, connectionsFor, definePlugin, type BackendFactory, type Plugin } from '../../core/plugin-api.ts'
import { RawHttpClient, encodeRequest } from '../shared/http/raw-client.ts'

const paramsSchema = z.object({
  /** The endpoint: http://127.0.0.1:8080/predict. */
  url: z.string().url().refine((u) => u.startsWith('http://'), 'expected an http:// URL (TLS is not supported by the load-generation client)'),
  method: z.enum(['GET', 'POST', 'PUT']).default('GET'),
  /** A request body sent as is (e.g. a JSON document for a FastAPI-style service). */
  body: z.string().optional(),
  contentType: z.string().default('application/json'),
  expectStatus: z.number().int().default(200),
  /** Keep-alive connections at most; default: as many as the workload keeps in flight. */
  connections: z.number().int().positive().optional(),
})

/**
 * `http`: one prepared HTTP request, sent again and again: for model services behind a web
 * framework (the paper's ONNX Runtime + FastAPI setup) or any endpoint; needs no model.
 */
export function httpBackend(): Plugin {
  const factory: BackendFactory = async (ctx) => {
    const p = backendOptions(paramsSchema, ctx.params, {}, 'http')
    // With a `network`, the connection goes through its emulated link; the request still names the server.
    const url = new URL(p.url)
    const via = new URL(ctx.route ? await ctx.route(`http://${url.host.includes(':') ? url.host : `${url.host}:80`}`) : p.url)
    const client = new RawHttpClient(via.hostname, Number(via.port || 80), p.connections ?? connectionsFor(ctx))
    const request = encodeRequest(url, p.method, p.body, p.contentType)
    return {
      async infer() {
        const answer = await client.send(request)
        if (answer.status !== p.expectStatus) {
          throw new Error(`HTTP ${answer.status} from ${p.url} (expected ${p.expectStatus}): ${answer.body.toString('utf8', 0, 200)}`)
        }
        return answer.queuedUs > 0 ? { clientQueueUs: answer.queuedUs } : undefined
      },
      close: async () => client.close(),
      info: { url: p.url, method: p.method },
    }
  }
  return definePlugin({ name: 'inferbench:http', backends: { http: factory }, optionSchemas: { http: paramsSchema }, routes: ['http'] })
}
