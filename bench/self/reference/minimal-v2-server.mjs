// The simplest correct KServe v2 HTTP server for one model: node:http, onnxruntime on the main
// thread, JSON or binary-extension tensors in, JSON or binary out. The reference that
// `inferbench serve` is measured against (bench/self/server-overhead.bench.ts); not for use.
// Usage: [PORT=n] node minimal-v2-server.mjs <model.onnx> [intra-op threads]   (prints the port)
import http from 'node:http'
import * as ort from 'onnxruntime-node'

// Optional second argument: onnxruntime intra-op threads (default: its own choice).
const threads = process.argv[3] ? { intraOpNumThreads: Number(process.argv[3]) } : {}
const session = await ort.InferenceSession.create(process.argv[2], threads)
const HEADER = 'inference-header-content-length'
const server = http.createServer((req, res) => {
  // Health, server and model metadata; no statistics extension (optional in KServe v2): 404.
  if (req.method === 'GET') return res.writeHead(req.url.endsWith('/stats') ? 404 : 200).end(req.url.endsWith('/stats') ? '{"error":"no statistics"}' : '{}')
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    const body = Buffer.concat(chunks)
    const jsonLength = Number(req.headers[HEADER] ?? body.length)
    const request = JSON.parse(body.subarray(0, jsonLength).toString())
    let offset = jsonLength
    const feeds = {}
    for (const input of request.inputs) {
      const size = input.parameters?.binary_data_size
      const data = size === undefined ? Float32Array.from(input.data) : new Float32Array(body.buffer.slice(body.byteOffset + offset, body.byteOffset + offset + size))
      offset += size ?? 0
      feeds[input.name] = new ort.Tensor('float32', data, input.shape)
    }
    const result = await session.run(feeds)
    const binary = request.parameters?.binary_data_output === true
    const outputs = Object.entries(result).map(([name, t]) => ({
      name, datatype: 'FP32', shape: t.dims, ...(binary ? { parameters: { binary_data_size: t.data.byteLength } } : { data: Array.from(t.data) }),
    }))
    const header = Buffer.from(JSON.stringify({ model_name: request.model_name ?? 'model', outputs }))
    if (!binary) return res.writeHead(200, { 'content-type': 'application/json', 'content-length': header.length }).end(header)
    const tails = Object.values(result).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))
    res.writeHead(200, { 'content-type': 'application/octet-stream', [HEADER]: header.length, 'content-length': header.length + tails.reduce((s, t) => s + t.length, 0) })
    res.end(Buffer.concat([header, ...tails]))
  })
})
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(server.address().port))
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(0))
