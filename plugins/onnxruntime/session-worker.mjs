// One onnxruntime session in its own thread. onnxruntime-node runs inference synchronously on
// the calling thread, so a session on the main thread blocks the load generator for every run;
// here the main thread only posts "run" and receives "done" (0) or an error message.
// Plain JavaScript: worker threads do not inherit the TypeScript loader, and this stays tiny.
import { parentPort, workerData } from 'node:worker_threads'
import * as ort from 'onnxruntime-node'

/** @type {{ modelPath: string, sessionOptions: object, inputs: Array<{ name: string, type: string, shape: number[], data: ArrayBufferView }> }} */
const setup = workerData
const port = parentPort
try {
  const session = await ort.InferenceSession.create(setup.modelPath, setup.sessionOptions)
  const feeds = Object.fromEntries(setup.inputs.map((i) => [i.name, new ort.Tensor(i.type, i.data, i.shape)]))
  port.on('message', (message) => {
    if (message.op === 'close') {
      session.release().then(() => port.close())
      return
    }
    if (message.inputs) {
      // A pipeline's request: its own tensors in, the outputs back.
      let own
      try {
        own = Object.fromEntries(Object.entries(message.inputs).map(([name, t]) => [name, new ort.Tensor(t.type, t.data, t.dims)]))
      } catch (error) {
        port.postMessage(String(error?.message ?? error))
        return
      }
      const ran = message.outputs ? session.run(own, message.outputs) : session.run(own)
      ran.then((outputs) => port.postMessage({
        outputs: Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, { type: t.type, dims: [...t.dims], data: t.data }])),
      }), (error) => port.postMessage(String(error?.message ?? error)))
      return
    }
    session.run(feeds).then(() => port.postMessage(0), (error) => port.postMessage(String(error?.message ?? error)))
  })
  const shapes = Object.fromEntries(session.inputMetadata.filter((m) => m.isTensor).map((m) => [m.name, [...m.shape]]))
  port.postMessage({ ready: { inputs: [...session.inputNames], outputs: [...session.outputNames], shapes } })
} catch (error) {
  port.postMessage({ failed: String(error?.message ?? error) })
}
