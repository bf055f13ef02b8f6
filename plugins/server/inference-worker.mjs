// One model instance of `inferbench serve`: an onnxruntime session in its own thread.
// onnxruntime-node runs inference synchronously on the calling thread; in a worker it leaves the
// server's event loop free to accept, parse and time requests while models compute.
// Plain JavaScript: worker threads do not inherit the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads'
import * as ort from 'onnxruntime-node'

/** @type {{ modelPath: string, sessionOptions: object }} */
const { modelPath, sessionOptions } = workerData
const port = parentPort
const metadata = (m) => (m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] } : { name: m.name, isTensor: false })

try {
  const session = await ort.InferenceSession.create(modelPath, sessionOptions)
  port.on('message', (message) => {
    if (message.op === 'close') {
      session.release().then(() => port.close())
      return
    }
    const feeds = Object.fromEntries(message.inputs.map((i) => [i.name, new ort.Tensor(i.type, i.data, i.shape)]))
    const start = process.hrtime.bigint()
    session.run(feeds).then((result) => {
      const inferNs = Number(process.hrtime.bigint() - start)
      const outputs = Object.entries(result).map(([name, t]) => ({ name, dims: [...t.dims], data: t.data }))
      port.postMessage({ inferNs, outputs }, outputs.map((o) => o.data.buffer))
    }, (error) => port.postMessage({ error: String(error?.message ?? error) }))
  })
  port.postMessage({ ready: true, inputs: session.inputMetadata.map(metadata), outputs: session.outputMetadata.map(metadata) })
} catch (error) {
  port.postMessage({ failed: String(error?.message ?? error) })
}
