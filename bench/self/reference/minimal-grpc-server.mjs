// The simplest correct KServe v2 gRPC server for one model: grpc-js, onnxruntime on the main
// thread, raw_input_contents in, raw_output_contents out. The reference that `inferbench serve`
// is measured against (bench/self/server-overhead.bench.ts); not for use.
// Usage: [PORT=n] node minimal-grpc-server.mjs <model.onnx> [intra-op threads]   (prints the port)
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import * as ort from 'onnxruntime-node'

const session = await ort.InferenceSession.create(process.argv[2], process.argv[3] ? { intraOpNumThreads: Number(process.argv[3]) } : {})
const proto = new URL('../../../plugins/shared/v2/kserve_v2.proto', import.meta.url).pathname
const definition = protoLoader.loadSync(proto, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true })
const service = grpc.loadPackageDefinition(definition).inference.GRPCInferenceService.service
const server = new grpc.Server()
server.addService(service, {
  ServerReady: (_call, done) => done(null, { ready: true }),
  ServerMetadata: (_call, done) => done(null, { name: 'minimal', version: '0' }),
  ModelMetadata: (call, done) => done(null, { name: call.request.name }),
  ModelInfer: async (call, done) => {
    const request = call.request
    const feeds = {}
    request.inputs.forEach((input, i) => {
      const raw = request.raw_input_contents[i]
      feeds[input.name] = new ort.Tensor('float32', new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), input.shape)
    })
    const result = await session.run(feeds)
    const outputs = Object.entries(result)
    done(null, {
      model_name: request.model_name,
      outputs: outputs.map(([name, t]) => ({ name, datatype: 'FP32', shape: t.dims })),
      raw_output_contents: outputs.map(([, t]) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
    })
  },
})
server.bindAsync(`127.0.0.1:${process.env.PORT ?? 0}`, grpc.ServerCredentials.createInsecure(), (_error, port) => console.log(port))
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0))
