import { describeBad, loadUserDataSet, readDataRegistry, type LoadedDataSet } from '../core/data/user-data-sets.ts'
import { InferbenchError } from '../core/errors.ts'
import { placementOf, type ResolvedPipeline } from '../core/pipeline.ts'
import type { Backend, DataItem, InferAnswer, PostprocessFn, PreprocessFn, RunAnswer, Tensor, TensorMap } from '../core/plugin.ts'
import type { ServingJob } from '../core/plan.ts'
import type { JobContext } from './job-context.ts'

/** Monotonic µs, the clock a server on this machine stamps its answers with (process.hrtime). */
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

/**
 * Puts a bench's pipeline around its backend: each request takes the next `batch` items of the
 * data set (round robin), pre-processes them (here, or on the server with placement 'server'),
 * runs the model through `backend.run` and post-processes the outputs. Every stage boundary is
 * timestamped, so each answer carries its breakdown (`stages`, µs): preprocess, request, queue,
 * inference, server, response, postprocess.
 */
export async function withPipeline(job: ServingJob & { pipeline: ResolvedPipeline }, backend: Backend, ctx: JobContext): Promise<Backend> {
  const spec = job.pipeline
  const where = `pipeline of ${job.fullName}`
  const { run, io } = backend
  if (!run || !io) {
    throw new InferbenchError('INFERBENCH_DATA_INVALID', `${where}: backend '${job.backend}' takes no request data (it only sends synthesised inputs); use onnxruntime, server (http) or kserve/triton over http`)
  }
  const placement = placementOf(job.params, where)
  const loaded = await loadItems(spec.data, ctx)
  const pre = spec.pre ? await createStage(ctx, spec.pre, 'pre', io) as PreprocessFn : undefined
  const post = spec.post ? await createStage(ctx, spec.post, 'post', io) as PostprocessFn : undefined
  const wanted = spec.post ? outputsRead(ctx, spec.post, io) : undefined
  const items = await screen(loaded, pre ?? tensorCheck(io.inputs), spec, screenedIn(ctx, `${spec.data}\0${JSON.stringify(spec.pre ?? null)}\0${io.inputs.join()}`))
  const prepare = placement === 'server' ? rawTensor : pre ?? stackItemTensors
  let cursor = 0
  const next = () => Array.from({ length: job.batch }, () => items[cursor++ % items.length]!)
  return {
    ...backend,
    async infer(): Promise<InferAnswer> {
      const batch = next()
      const t0 = nowUs()
      const inputs = await prepare(batch)
      const t1 = nowUs()
      let answer: Awaited<ReturnType<typeof run>>
      try {
        answer = await run(inputs, wanted)
      } catch (error) {
        // A failure names the items it carried: the error of a bad item then points at its file.
        throw new Error(`${describeItems(batch)}: ${(error as Error).message}`, { cause: error })
      }
      const t2 = nowUs()
      if (post) {
        try {
          post(answer.outputs)
        } catch (error) {
          throw new Error(`post-processing (${spec.post!.type}): ${(error as Error).message}`, { cause: error })
        }
      }
      const t3 = nowUs()
      return { ...(answer.serverTimings ? { serverTimings: answer.serverTimings } : {}), stages: stagesOf(t0, t1, t2, t3, answer, placement) }
    },
    info: {
      // The backend's synthesised inputs are not what the pipeline sends.
      ...withoutSynthesised(backend.info),
      pipeline: {
        data: spec.data, items: items.length, placement, ...(spec.pre ? { pre: spec.pre } : {}), ...(spec.post ? { post: spec.post } : {}),
        ...(loaded.bad.length ? { skipped: loaded.bad } : {}),
      },
    },
  }
}

/**
 * One request's stages from the client's four timestamps and what the answer says. A server on
 * this machine stamps when it had the request and when it began to answer on the same monotonic
 * clock, which splits the wire time into request and response; a remote one cannot, and its
 * wire time stays one `network` stage.
 */
export function stagesOf(t0: number, t1: number, t2: number, t3: number, answer: RunAnswer, placement: 'client' | 'server'): Record<string, number> {
  const stages: Record<string, number> = { preprocess: placement === 'server' ? answer.preprocessUs ?? 0 : t1 - t0 }
  const queue = answer.serverTimings?.queueUs
  const compute = answer.serverTimings?.computeUs
  const received = answer.serverReceivedUs
  const sent = answer.serverSentUs
  // Server placement: the client only packed the raw bytes; that counts with sending them.
  const sending = placement === 'server' ? t0 : t1
  if (received !== undefined && sent !== undefined && received >= sending && sent <= t2 && sent >= received) {
    stages.request = received - sending
    stages.queue = queue ?? 0
    stages.inference = compute ?? 0
    stages.server = Math.max(0, sent - received - stages.queue - stages.inference - (placement === 'server' ? stages.preprocess! : 0))
    stages.response = t2 - sent
  } else if (compute !== undefined) {
    stages.queue = queue ?? 0
    stages.inference = compute
    stages.network = Math.max(0, t2 - t1 - stages.queue - compute - (placement === 'server' ? stages.preprocess! : 0))
  } else {
    stages.inference = t2 - t1
  }
  stages.postprocess = t3 - t2
  return stages
}

async function loadItems(name: string, ctx: JobContext): Promise<LoadedDataSet> {
  if (ctx.registry.names('dataSets').includes(name)) return { items: await ctx.registry.dataSet(name)({ cacheDir: ctx.config.cacheDir }), bad: [] }
  const set = readDataRegistry(ctx.config.root)[name]
  if (!set) throw new InferbenchError('INFERBENCH_DATA_INVALID', `pipeline: no data set '${name}' (add one with inferbench data add <folder|file.jsonl> --name ${name})`)
  return loadUserDataSet(set)
}

async function createStage(ctx: JobContext, spec: { type: string; options: Record<string, unknown> }, stage: 'pre' | 'post', io: { inputs: string[]; outputs: string[] }) {
  try {
    return await ctx.registry.processor(spec.type).create(spec.options, io)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_DATA_INVALID', `pipeline: ${stage}: ${spec.type}: ${(error as Error).message}`, { cause: error })
  }
}

/** Items already screened in this run, by data set and pre-processing: a sweep screens once. */
const screenings = new WeakMap<object, Map<string, Map<string, string | undefined>>>()

function screenedIn(ctx: JobContext, key: string): Map<string, string | undefined> {
  let run = screenings.get(ctx.config)
  if (!run) screenings.set(ctx.config, run = new Map())
  let verdicts = run.get(key)
  if (!verdicts) run.set(key, verdicts = new Map())
  return verdicts
}

function outputsRead(ctx: JobContext, spec: { type: string; options: Record<string, unknown> }, io: { inputs: string[]; outputs: string[] }): string[] | undefined {
  const processor = ctx.registry.processor(spec.type)
  return processor.stage === 'post' ? processor.outputs?.(spec.options, io) : undefined
}

/**
 * Every item through the pre-processing once, before any timing: an unreadable one is named
 * with its path, and fails the job (onBadItem 'fail') or is left out of the rotation ('skip').
 * `verdicts` (source → why it is bad, or undefined when good) carries what earlier jobs of the
 * run found, so a sweep over batch sizes and networks does not decode every image again.
 */
async function screen(loaded: LoadedDataSet, pre: PreprocessFn | undefined, spec: ResolvedPipeline, verdicts: Map<string, string | undefined>): Promise<DataItem[]> {
  const good: DataItem[] = []
  for (const item of loaded.items) {
    if (!verdicts.has(item.source)) {
      try {
        await (pre ? pre([item]) : stackItemTensors([item]))
        verdicts.set(item.source, undefined)
      } catch (error) {
        verdicts.set(item.source, (error as Error).message.replace(`${item.source}: `, ''))
      }
    }
    const reason = verdicts.get(item.source)
    if (reason === undefined) good.push(item)
    else loaded.bad.push({ source: item.source, reason })
  }
  if (loaded.bad.length && spec.onBadItem === 'fail') {
    throw new InferbenchError('INFERBENCH_DATA_INVALID', `pipeline: data set '${spec.data}': ${describeBad(loaded.bad)} (set onBadItem: 'skip' to run without them)`)
  }
  if (good.length === 0) throw new InferbenchError('INFERBENCH_DATA_INVALID', `pipeline: data set '${spec.data}' has no usable item: ${describeBad(loaded.bad)}`)
  return good
}

function withoutSynthesised(info: Record<string, unknown> | undefined): Record<string, unknown> {
  const { inputs: _synthesised, ...rest } = info ?? {}
  return rest
}

function describeItems(items: DataItem[]): string {
  const names = [...new Set(items.map((i) => i.source))]
  return `request of ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`
}

/**
 * Screening of items that carry their own tensors (no pre-processing): each must give every
 * model input and no other, each tensor the type and dims of the first good item's.
 */
function tensorCheck(modelInputs: string[]): PreprocessFn {
  let first: { source: string; signature: Map<string, string> } | undefined
  return (items) => {
    const [item] = items
    const tensors = item?.tensors
    if (!item || !tensors) throw new Error(`${item?.source ?? 'item'}: has no tensors, and the pipeline has no pre-processing to make them (set pre: processor('image' | 'text' | 'video'))`)
    const names = Object.keys(tensors)
    const missing = modelInputs.filter((n) => !names.includes(n))
    const unknown = names.filter((n) => !modelInputs.includes(n))
    if (missing.length || unknown.length) {
      throw new Error(`${item.source}: ${unknown.length ? `tensor${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not a model input` : ''}${unknown.length && missing.length ? '; ' : ''}${missing.length ? `no tensor for input ${missing.join(', ')}` : ''} (model inputs: ${modelInputs.join(', ')})`)
    }
    const signature = new Map(names.map((n) => [n, `${tensors[n]!.type} [${tensors[n]!.dims.join(', ')}]`]))
    if (!first) first = { source: item.source, signature }
    for (const [name, sig] of signature) {
      if (first.signature.get(name) !== sig) throw new Error(`${item.source}: tensor '${name}' is ${sig}, the first item's (${first.source}) is ${first.signature.get(name)}`)
    }
    return stackItemTensors(items)
  }
}

/** Items sent as they are, one BYTES element each: the server pre-processes them. */
function rawTensor(items: DataItem[]): TensorMap {
  return { raw: { type: 'bytes', dims: [items.length], data: items.map((i) => i.bytes ?? Buffer.from(i.text ?? '')) } }
}

/** Items that carry their own tensors (a JSONL of tensors), stacked along a new batch axis. */
function stackItemTensors(items: DataItem[]): TensorMap {
  const first = items[0]?.tensors
  if (!first) throw new Error(`${items[0]?.source ?? 'item'}: has no tensors, and the pipeline has no pre-processing to make them (set pre: processor('image' | 'text' | 'video'))`)
  return Object.fromEntries(Object.entries(first).map(([name, t]) => {
    const parts = items.map((item) => {
      const own = item.tensors?.[name]
      if (!own || own.type !== t.type || own.dims.join() !== t.dims.join()) throw new Error(`${item.source}: tensor '${name}' differs in type or dims from the first item's`)
      return own.data as Exclude<Tensor['data'], Uint8Array[]>
    })
    const data = new (parts[0]!.constructor as new (n: number) => Exclude<Tensor['data'], Uint8Array[]>)(parts.reduce((n, p) => n + p.length, 0))
    let offset = 0
    for (const p of parts) {
      (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(p, offset)
      offset += p.length
    }
    return [name, { type: t.type, dims: [items.length, ...t.dims], data } satisfies Tensor]
  }))
}
