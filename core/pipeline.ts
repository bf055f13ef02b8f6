import { basename } from 'node:path'
import { InferbenchError } from './errors.ts'
import { describeValue } from './describe-value.ts'
import { fromBenchFile } from './workload.ts'
import { readDataRegistry } from './data/user-data-sets.ts'
import type { PluginRegistry, ProcessorSpec } from './plugin.ts'

/**
 * The stages around inference (§3.3's pipeline tier): which request data, how it becomes the
 * model's inputs, and what is made of the outputs. Plain data, so a plan carries it to a server
 * (placement: 'server') or a follower.
 */
export interface PipelineSpec {
  /** A data set: built-in (`images`, `sentences`, `videos`) or registered with `inferbench data add`. */
  data: string
  /** Pre-processing (`processor('image', { size: 224 })`); none: the items' own tensors (a JSONL of tensors). */
  pre?: ProcessorSpec
  /** Post-processing of the outputs (`processor('topK', { k: 5, labels })`). */
  post?: ProcessorSpec
  /** An item the pre-processing cannot read: 'fail' the job (default) or 'skip' it (named in the report). */
  onBadItem?: 'skip' | 'fail'
}

export type ResolvedPipeline = Required<Pick<PipelineSpec, 'data' | 'onBadItem'>> & Pick<PipelineSpec, 'pre' | 'post'>

/**
 * A processor by name with its options, for a bench's `pipeline`. An option that is a path
 * starting with ./ or ../ (a label file, a vocabulary) is taken from the bench file's folder, as
 * model.file() takes its path.
 */
export function processor(type: string, options: Record<string, unknown> = {}): ProcessorSpec {
  return { type, options: Object.fromEntries(Object.entries(options).map(([k, v]) => [k, typeof v === 'string' && /^\.\.?\//.test(v) ? fromBenchFile(v) : v])) }
}

const KEYS = ['data', 'pre', 'post', 'onBadItem']

/**
 * Checks a bench's pipeline at plan time (so `--list` catches it): the data set exists, each
 * processor exists, is of its stage and takes its options, and pre-processing on the server is
 * asked only of a backend whose server can do it.
 */
export function resolvePipeline(value: unknown, registry: PluginRegistry, root: string, where: string): ResolvedPipeline {
  const fail = (message: string, cause?: unknown): never => {
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: pipeline: ${message}`, cause ? { cause } : undefined)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(`expected { data: 'images', pre?: processor('image'), post?: processor('topK') }, received ${describeValue(value)}`)
  const v = value as Record<string, unknown>
  const unknown = Object.keys(v).filter((k) => !KEYS.includes(k))
  if (unknown.length) fail(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${KEYS.join(', ')}`)
  if (typeof v.data !== 'string' || !v.data) fail(`data: expected the name of a data set, received ${describeValue(v.data)}`)
  const data = v.data as string
  const builtIn = registry.names('dataSets')
  const registered = builtIn.includes(data) ? undefined : readDataRegistry(root)
  if (registered && !registered[data]) {
    fail(`data: no data set '${data}'; built in: ${builtIn.join(', ') || 'none'}; registered: ${Object.keys(registered).join(', ') || 'none'} (add one with inferbench data add <folder|file.jsonl> --name ${data})`)
  }
  if (v.onBadItem !== undefined && v.onBadItem !== 'skip' && v.onBadItem !== 'fail') fail(`onBadItem: expected 'skip' or 'fail', received ${describeValue(v.onBadItem)}`)
  const pre = v.pre === undefined ? undefined : checkProcessor(v.pre, 'pre', registry, fail)
  const post = v.post === undefined ? undefined : checkProcessor(v.post, 'post', registry, fail)
  return { data, onBadItem: (v.onBadItem as 'skip' | 'fail' | undefined) ?? 'fail', ...(pre ? { pre } : {}), ...(post ? { post } : {}) }
}

function checkProcessor(value: unknown, stage: 'pre' | 'post', registry: PluginRegistry, fail: (message: string, cause?: unknown) => never): ProcessorSpec {
  const spec = value as ProcessorSpec
  if (!spec || typeof spec !== 'object' || typeof spec.type !== 'string' || (spec.options !== undefined && (typeof spec.options !== 'object' || spec.options === null))) {
    fail(`${stage}: expected processor('<name>', { ...options }), received ${describeValue(value)}`)
  }
  let found
  try {
    found = registry.processor(spec.type)
  } catch (error) {
    fail(`${stage}: ${(error as Error).message}`, error)
  }
  if (found!.stage !== stage) fail(`${stage}: '${spec.type}' is a ${found!.stage}-processor; it belongs in '${found!.stage}'`)
  try {
    found!.check(spec.options ?? {})
  } catch (error) {
    fail(`${stage}: ${spec.type}: ${(error as Error).message.replace(/\s+/g, ' ')}`, error)
  }
  return { type: spec.type, options: spec.options ?? {} }
}

/**
 * A processor as a table shows it and a job's id hashes it: `image(size=224)`, `topK(k=5,labels=imagenet.txt)`.
 * Paths show their file name; options in key order, so the same processor always reads the same.
 */
export function processorLabel(spec: ProcessorSpec): string {
  const parts = Object.keys(spec.options).sort().map((k) => {
    const v = spec.options[k]
    const shown = typeof v === 'string' && v.includes('/') ? basename(v) : typeof v === 'object' ? JSON.stringify(v) : String(v)
    return `${k}=${shown}`
  })
  return parts.length ? `${spec.type}(${parts.join(',')})` : spec.type
}

/** Where pre-processing runs for a job: its `placement` parameter, 'client' by default. */
export function placementOf(params: Readonly<Record<string, unknown>>, where: string): 'client' | 'server' {
  const p = params.placement ?? 'client'
  if (p !== 'client' && p !== 'server') throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: placement: expected 'client' or 'server', received ${describeValue(p)}`)
  return p
}
