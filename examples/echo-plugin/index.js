// An example third-party plugin, plain JavaScript, importing only `inferbench/plugin`:
// - backend `echo`: answers after `delayMs` (its declared option), synthesising the job's model
//   inputs like a real client would, and failing loudly for a model it cannot read;
// - reporter `tally`: writes one line per finished job and a total at the end.
import { InferbenchError, definePlugin, onnxInputs, synthesizeInputs, z } from 'inferbench/plugin'

const options = z.object({ delayMs: z.number().nonnegative().default(1) })

/** @type {import('inferbench/plugin').BackendFactory} */
const echo = async (ctx) => {
  const { delayMs } = options.parse({ delayMs: ctx.params.delayMs })
  const inputs = ctx.model
    ? synthesizeInputs(onnxInputs(ctx.model.bytes, ctx.model.name), { modelName: ctx.model.name, batch: ctx.batch, params: ctx.params, intHigh: 2, seed: 1 })
    : []
  if (ctx.params.refuse) throw new InferbenchError('INFERBENCH_BACKEND_FAILED', `echo backend refuses job ${ctx.jobId}`)
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 5)
    ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(ctx.signal.reason) }, { once: true })
  })
  let served = 0
  return {
    infer: () => new Promise((resolve) => setTimeout(() => { served++; resolve({ serverTimings: { computeUs: delayMs * 1000 } }) }, delayMs)),
    close: async () => {},
    versions: { 'inferbench-plugin-echo': '0.1.0' },
    info: { delayMs, inputs: inputs.map((i) => ({ name: i.name, shape: i.shape })) },
    statistics: async () => ({ requests: served, queueUs: 0, computeUs: served * delayMs * 1000 }),
  }
}

/** @type {import('inferbench/plugin').ReporterFactory} */
const tally = ({ stdout }) => {
  let jobs = 0
  return {
    onJobEnd(job, report) {
      jobs++
      stdout.write(`tally: ${job.name} ${report.status}\n`)
    },
    onRunEnd() {
      stdout.write(`tally: ${jobs} jobs\n`)
    },
  }
}

export function echoPlugin() {
  return definePlugin({ name: 'echo', backends: { echo }, reporters: { tally }, optionSchemas: { echo: z.object({ delayMs: options.shape.delayMs, refuse: z.number().optional() }) } })
}
