import { readFileSync } from 'node:fs'
import { InferbenchError } from './errors.ts'
import type { ModelRef } from './model-ref.ts'
import type { AxisClaim, PluginRegistry } from './plugin.ts'
import { ModelRepository } from './store/model-repository.ts'
import type { Scalar } from './types.ts'

/** Axes the core itself reads. */
const CORE_AXES = ['model', 'backend', 'batch']
/** Options of a bench itself: on a describe they would be taken for axes. */
const BENCH_OPTIONS = ['workload', 'warmup', 'slo', 'check']

export interface AxisContext {
  registry: PluginRegistry
  /** Purely descriptive axes the user declared in the config (a repetition counter, a label). */
  declared: Readonly<Record<string, string>>
  /** The model repository's folder, to read a model.repo() entry's dims. */
  repositoryDir?: string
}

/**
 * A bench parameter nothing reads would silently duplicate jobs (`network: ['lan', 'lte']`
 * before any network plugin) or silently do nothing (`intraOpThread: 2`, a typo). Every
 * parameter must be claimed: by the core, by the job's backend's options, by a plugin's axes,
 * by a symbolic input dim of the job's model, or declared as descriptive in the config.
 */
export function checkAxesClaimed(params: Readonly<Record<string, Scalar>>, backend: string, batch: number, model: ModelRef | undefined,
  context: AxisContext, dimsCache: Map<string, SymbolicDim[] | undefined>, where: string): void {
  const claims = context.registry.claims()
  const mine = (c: AxisClaim) => c.backend === undefined || c.backend === backend
  const symbolic = modelDims(model, context, dimsCache)
  const dims = symbolic ? [...symbolic.map((d) => d.name), ...Object.keys(model?.source === 'generate' ? {} : model?.dims ?? {})] : undefined
  for (const key of Object.keys(params)) {
    if (CORE_AXES.includes(key) || key in context.declared || claims.some((c) => c.key === key && mine(c))) continue
    if (dims === undefined || dims.includes(key)) continue
    if (BENCH_OPTIONS.includes(key)) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: '${key}' is a bench option, not a matrix axis: set it on bench(name, { ${key}: ... }) or in the config's defaults`)
    }
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: ${unclaimedMessage(key, backend, [...new Set(claims)], [...new Set(dims)], context.declared)}`)
  }
  // Values too, before anything runs: a bad one in a big matrix would otherwise error every job it reaches.
  const problems = context.registry.optionProblems(backend, params)
  if (problems.length) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: ${backend} backend options: ${problems.join('; ')}`)
  if (symbolic && model) checkDimsBound(symbolic, params, batch, model, where)
}

/**
 * Every symbolic dim off the batch axis needs a size, and the batch axis is sized by `batch`
 * alone: a parameter that resized it would make samples/s and FLOPs count the wrong batch.
 */
function checkDimsBound(symbolic: SymbolicDim[], params: Readonly<Record<string, Scalar>>, batch: number, model: ModelRef, where: string): void {
  const declared = model.source === 'generate' ? {} : model.dims ?? {}
  for (const name of new Set(symbolic.map((d) => d.name))) {
    const axes = symbolic.filter((d) => d.name === name).map((d) => d.axis)
    const bound = params[name] ?? declared[name]
    if (axes.every((a) => a === 0)) {
      if (bound !== undefined && bound !== batch) {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID',
          `${where}: '${name}' is the model's batch dimension (axis 0): set batch: ${String(bound)} instead, so that samples/s and FLOPs count the batch it runs`)
      }
      continue
    }
    if (bound === undefined) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID',
        `${where}: the model's input dimension '${name}' (axis ${axes.find((a) => a !== 0)}) is symbolic and nothing sizes it; add ${name}: <size> to the bench or describe, or model.file(path, { dims: { ${name}: <size> } })`)
    }
  }
}

type SymbolicDim = { name: string; axis: number }

function unclaimedMessage(key: string, backend: string, claims: AxisClaim[], dims: string[], declared: Readonly<Record<string, string>>): string {
  const elsewhere = claims.find((c) => c.key === key)
  const head = elsewhere
    ? `parameter '${key}' is an option of backend '${elsewhere.backend}' (plugin ${elsewhere.plugin}), not of backend '${backend}' that this job runs`
    : `parameter '${key}' is read by nothing in this job (backend '${backend}'${dims.length ? `, model dims ${dims.join(', ')}` : ''}) and no registered plugin takes it`
  const candidates = [
    ...CORE_AXES.map((name) => ({ name, what: 'a core axis' })),
    ...claims.filter((c) => c.backend === undefined || c.backend === backend)
      .map((c) => ({ name: c.key, what: c.backend ? `an option of backend '${c.backend}', plugin ${c.plugin}` : `an axis of plugin ${c.plugin}` })),
    ...dims.map((name) => ({ name, what: 'a symbolic input dim of the model' })),
    ...Object.keys(declared).map((name) => ({ name, what: 'a descriptive axis declared in the config' })),
  ]
  const nearest = nearestName(key, candidates)
  const hint = nearest ? `; did you mean '${nearest.name}' (${nearest.what})?` : '.'
  return `${head}${hint} A purely descriptive axis (a repetition counter, a label) is declared in the config: axes: { ${key}: 'what it means' }`
}

export function nearestName<T extends { name: string }>(key: string, candidates: T[]): T | undefined {
  let best: T | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.name.toLowerCase())
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The model's symbolic input dims (a matrix parameter may size them), read at plan time for files
 * and repository entries; generated models declare only the batch. Undefined when the model
 * cannot be read now: its job will fail on that, and its parameters are not judged here.
 */
function modelDims(model: ModelRef | undefined, context: AxisContext, cache: Map<string, SymbolicDim[] | undefined>): SymbolicDim[] | undefined {
  if (!model || model.source === 'generate') return []
  const key = model.source === 'file' ? `file:${model.path}` : `repo:${model.ref}`
  if (!cache.has(key)) cache.set(key, readDims(model, context))
  return cache.get(key)
}

function readDims(model: Extract<ModelRef, { source: 'file' | 'repo' }>, context: AxisContext): SymbolicDim[] | undefined {
  try {
    if (model.source === 'file') return context.registry.symbolicDims(readFileSync(model.path)) ?? undefined
    if (!context.repositoryDir) return undefined
    const repository = new ModelRepository(context.repositoryDir)
    try {
      return context.registry.symbolicDims(repository.read(model.ref).bytes) ?? undefined
    } finally {
      repository.close()
    }
  } catch {
    return undefined
  }
}
