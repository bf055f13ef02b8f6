import http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import * as ort from 'onnxruntime-node'
import { TF_DTYPE, TF_TO_ORT, loadPredictionService } from '../../plugins/tfserving/proto.ts'

/**
 * A small server implementing TensorFlow Serving's documented REST (status, :predict in row and
 * columnar formats) and gRPC (PredictionService/Predict) APIs over a real onnxruntime session.
 * TF Serving itself cannot run here (no Docker engine, no TensorFlow binaries), so the tfserving
 * client is tested against this stand-in for the protocol; the numbers it serves are real.
 */
export async function startTfServingTestServer(modelPath: string, modelName: string) {
  const session = await ort.InferenceSession.create(modelPath)
  const seen = { row: 0, columnar: 0, grpc: 0 }
  const types = new Map(session.inputMetadata.flatMap((m) => (m.isTensor ? [[m.name, m.type] as const] : [])))

  async function run(tensors: Record<string, { data: number[]; shape: number[] }>) {
    const feeds = Object.fromEntries(Object.entries(tensors).map(([name, t]) => {
      const type = types.get(name)
      if (!type) throw new Error(`unknown input '${name}'`)
      const data = type === 'int64' ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data)
      return [name, new ort.Tensor(type, data, t.shape)]
    }))
    return session.run(feeds)
  }

  const restServer = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const match = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?(:predict)?$/.exec(req.url ?? '')
    if (!match || match[1] !== modelName) return reply(404, { error: `Servable not found for request: Latest(${match?.[1] ?? '?'})` })
    if (req.method === 'GET' && !match[3]) {
      return reply(200, { model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] })
    }
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', async () => {
      try {
        const request = JSON.parse(body) as { instances?: unknown[]; inputs?: Record<string, unknown> }
        if (request.instances && request.inputs) return reply(400, { error: 'JSON Value: ... Only one of "instances" or "inputs" may be specified' })
        const tensors: Record<string, { data: number[]; shape: number[] }> = {}
        if (request.instances) {
          seen.row++
          const names = [...types.keys()]
          for (const name of names) {
            const rows = request.instances.map((inst) => (names.length === 1 && Array.isArray(inst) ? inst : (inst as Record<string, unknown>)[name]))
            tensors[name] = flatten(rows)
          }
        } else if (request.inputs) {
          seen.columnar++
          for (const [name, value] of Object.entries(request.inputs)) tensors[name] = flatten(value)
        } else {
          return reply(400, { error: 'Missing "instances" or "inputs" key' })
        }
        const result = await run(tensors)
        const [first] = Object.values(result)
        const nested = toNested(first!)
        reply(200, request.instances ? { predictions: nested } : { outputs: nested })
      } catch (error) {
        reply(400, { error: (error as Error).message })
      }
    })
  })
  await new Promise<void>((resolve) => restServer.listen(0, '127.0.0.1', resolve))

  const grpcServer = new grpc.Server()
  grpcServer.addService(loadPredictionService().service, {
    Predict: (call: grpc.ServerUnaryCall<{ model_spec: { name: string }; inputs: Record<string, { dtype: string; tensor_shape: { dim: Array<{ size: number }> }; tensor_content: Buffer }> }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      seen.grpc++
      if (call.request.model_spec.name !== modelName) return callback({ code: grpc.status.NOT_FOUND, details: `Servable not found for request: Latest(${call.request.model_spec.name})` })
      const tensors: Record<string, { data: number[]; shape: number[] }> = {}
      for (const [name, t] of Object.entries(call.request.inputs)) {
        const shape = t.tensor_shape.dim.map((d) => Number(d.size))
        const raw = t.tensor_content
        const bytes = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)
        const values = TF_TO_ORT[t.dtype] === 'int64' ? Array.from(new BigInt64Array(bytes), Number) : Array.from(new Float32Array(bytes))
        tensors[name] = { data: values, shape }
      }
      run(tensors).then((result) => {
        callback(null, {
          model_spec: { name: modelName },
          outputs: Object.fromEntries(Object.entries(result).map(([name, t]) => [name, {
            dtype: TF_DTYPE[t.type], tensor_shape: { dim: t.dims.map((size) => ({ size })) },
            tensor_content: Buffer.from((t.data as Float32Array).buffer),
          }])),
        })
      }, (error: Error) => callback({ code: grpc.status.INVALID_ARGUMENT, details: error.message }))
    },
  })
  const grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))))

  return {
    restUrl: `http://127.0.0.1:${(restServer.address() as AddressInfo).port}`,
    grpcUrl: `grpc://127.0.0.1:${grpcPort}`,
    seen,
    session,
    async close() {
      restServer.closeAllConnections()
      await new Promise<void>((r) => restServer.close(() => r()))
      await new Promise<void>((r) => grpcServer.tryShutdown(() => r()))
      await session.release()
    },
  }
}

function flatten(value: unknown): { data: number[]; shape: number[] } {
  const shape: number[] = []
  let v = value
  while (Array.isArray(v)) {
    shape.push(v.length)
    v = v[0]
  }
  return { data: (Array.isArray(value) ? value.flat(Infinity) : [value]) as number[], shape }
}

function toNested(t: ort.Tensor): unknown {
  const flat = Array.from(t.data as Float32Array)
  const build = (offset: number, axis: number): unknown => {
    if (axis === t.dims.length) return flat[offset]
    const stride = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1)
    return Array.from({ length: t.dims[axis]! }, (_, i) => build(offset + i * stride, axis + 1))
  }
  return build(0, 0)
}
