/**
 * `inferbench/plugin/testing`: the backend conformance kit. Any backend, built-in or third-party,
 * runs the same checks: it starts, answers synthesised inputs and closes; it describes itself in
 * plain data; its statistics are optional and, when kept, count what it served; its errors
 * surface instead of being swallowed; and it stops starting when its job is aborted.
 *
 * Framework-agnostic: each check is `{ name, run }`, so a vitest suite writes
 * `for (const check of backendConformance(setup)) it(check.name, check.run)`.
 */
import type { Backend, BackendContext, BackendFactory, InferAnswer } from './plugin.ts'

export type ConformanceContext = Omit<BackendContext, 'signal' | 'fail'>

export interface ConformanceSetup {
  /** The backend factory under test (e.g. `createRegistry([myPlugin()]).backend('mine')`). */
  factory: BackendFactory
  /** A job the backend can serve: model, batch, params, load. The kit adds `signal` and `fail`. */
  context: ConformanceContext
  /**
   * A job the backend cannot serve (a broken model, a server that is not there): the factory or
   * the first request must reject, with an Error that says why.
   */
  failing: ConformanceContext
  /** Requests sent by the answering check (default 20), `concurrency` at a time (default 4). */
  requests?: number
  concurrency?: number
  /** How long a factory may take to settle after its job is aborted (default 1 s). */
  abortGraceMs?: number
  /** How long one request may take before the backend counts as hung (default 30 s). */
  inferTimeoutMs?: number
}

export interface ConformanceCheck {
  name: string
  run(): Promise<void>
}

/** A check failed: the message says what the backend did and what the contract expects. */
export class ConformanceError extends Error {
  override name = 'ConformanceError'
}

export function backendConformance(setup: ConformanceSetup): ConformanceCheck[] {
  if (!setup.failing) throw new ConformanceError('backendConformance: pass `failing`, a job the backend cannot serve (a broken model, a server that is not there)')
  return [
    { name: 'starts, answers synthesised inputs concurrently, and closes', run: () => answers(setup) },
    { name: 'describes itself in plain data (versions, info, warm-up and threading hints)', run: () => describesItself(setup) },
    { name: 'statistics are optional and, when kept, count the requests served', run: () => statistics(setup) },
    { name: 'surfaces errors instead of swallowing them', run: () => surfacesErrors(setup, setup.failing) },
    { name: 'stops starting when its job is aborted (a job it can serve, and one it cannot)', run: () => honoursAbort(setup) },
  ]
}

/** One request, bounded: a backend that never settles is hung, and says so instead of hanging the kit. */
function inferOnce(setup: ConformanceSetup, backend: Backend): Promise<InferAnswer | void> {
  const ms = setup.inferTimeoutMs ?? 30_000
  return withinMs(Promise.resolve().then(() => backend.infer()), ms, `infer() did not settle within ${ms} ms: a request must resolve or reject`)
}

function contextFor(base: ConformanceContext, signal = new AbortController().signal) {
  const failures: Error[] = []
  return { ctx: { ...base, signal, fail: (error: Error) => { failures.push(error) } } satisfies BackendContext, failures }
}

async function started(setup: ConformanceSetup): Promise<{ backend: Backend; failures: Error[] }> {
  const { ctx, failures } = contextFor(setup.context)
  const backend = await setup.factory(ctx)
  if (!backend || typeof backend.infer !== 'function' || typeof backend.close !== 'function') {
    throw new ConformanceError(`the factory resolved to ${describe(backend)}; expected a backend with infer() and close()`)
  }
  return { backend, failures }
}

async function answers(setup: ConformanceSetup): Promise<void> {
  const { backend, failures } = await started(setup)
  const total = setup.requests ?? 20
  try {
    let sent = 0
    const client = async () => {
      while (sent < total) {
        sent++
        checkAnswer(await inferOnce(setup, backend))
      }
    }
    await Promise.all(Array.from({ length: setup.concurrency ?? 4 }, client))
  } finally {
    await withinMs(backend.close(), 15_000, 'close() did not resolve within 15 s')
  }
  if (failures.length) throw new ConformanceError(`the backend reported a failure while healthy: ${failures[0]!.message}`)
}

function checkAnswer(answer: InferAnswer | void): void {
  if (answer === undefined) return
  if (answer === null || typeof answer !== 'object') throw new ConformanceError(`infer() resolved to ${describe(answer)}; expected nothing or an answer object`)
  for (const [key, value] of Object.entries(answer.serverTimings ?? {})) {
    if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new ConformanceError(`serverTimings.${key} is ${describe(value)}; expected a non-negative number of µs`)
    }
  }
  if (answer.clientQueueUs !== undefined && !(answer.clientQueueUs >= 0)) throw new ConformanceError(`clientQueueUs is ${describe(answer.clientQueueUs)}`)
}

async function describesItself(setup: ConformanceSetup): Promise<void> {
  const { backend } = await started(setup)
  try {
    for (const [name, version] of Object.entries(backend.versions ?? {})) {
      if (typeof version !== 'string' || version === '') throw new ConformanceError(`versions['${name}'] is ${describe(version)}; expected a version string`)
    }
    if (backend.info !== undefined) {
      const problem = notPlainData(backend.info, 'info')
      if (problem) throw new ConformanceError(`${problem}: info goes into the JSON report and the PerfDB, so it must be plain data (objects, arrays, strings, finite numbers, booleans, null)`)
    }
    if (backend.warmupConcurrency !== undefined && !(Number.isInteger(backend.warmupConcurrency) && backend.warmupConcurrency > 0)) {
      throw new ConformanceError(`warmupConcurrency is ${describe(backend.warmupConcurrency)}; expected a positive integer`)
    }
    if (backend.blocksCaller !== undefined && typeof backend.blocksCaller !== 'boolean') throw new ConformanceError('blocksCaller must be a boolean')
  } finally {
    await backend.close()
  }
}

async function statistics(setup: ConformanceSetup): Promise<void> {
  const { backend } = await started(setup)
  try {
    if (!backend.statistics) return
    const before = await backend.statistics()
    const count = 5
    for (let i = 0; i < count; i++) await inferOnce(setup, backend)
    const after = await backend.statistics()
    if (before === undefined || after === undefined) {
      if (before !== after) throw new ConformanceError('statistics() answered once and not the other time; a server keeps them or it does not')
      return
    }
    for (const key of ['requests', 'queueUs', 'computeUs'] as const) {
      if (!(Number.isFinite(after[key]) && after[key] >= before[key])) throw new ConformanceError(`statistics().${key} went from ${before[key]} to ${after[key]}; expected a growing counter`)
    }
    if (after.requests - before.requests !== count) {
      throw new ConformanceError(`statistics().requests grew by ${after.requests - before.requests} over ${count} requests; it must count each request once`)
    }
  } finally {
    await backend.close()
  }
}

async function surfacesErrors(setup: ConformanceSetup, failing: ConformanceContext): Promise<void> {
  const { ctx } = contextFor(failing)
  let backend: Backend
  try {
    backend = await setup.factory(ctx)
  } catch (error) {
    if (!(error instanceof Error) || error.message === '') throw new ConformanceError(`the factory rejected with ${describe(error)}; expected an Error with a message`)
    return
  }
  try {
    await inferOnce(setup, backend)
  } catch (error) {
    if (error instanceof ConformanceError) throw error
    if (!(error instanceof Error) || error.message === '') throw new ConformanceError(`infer() rejected with ${describe(error)}; expected an Error with a message`)
    return
  } finally {
    await backend.close()
  }
  throw new ConformanceError('a job the backend cannot serve started and answered: its error was swallowed')
}

async function honoursAbort(setup: ConformanceSetup): Promise<void> {
  // Both jobs: a healthy start may be slow too (a server spawning, a model loading).
  await abortWhileStarting(setup, setup.context)
  await abortWhileStarting(setup, setup.failing)
}

async function abortWhileStarting(setup: ConformanceSetup, job: ConformanceContext): Promise<void> {
  const controller = new AbortController()
  const { ctx } = contextFor(job, controller.signal)
  const starting = Promise.resolve().then(() => setup.factory(ctx))
  setTimeout(() => controller.abort(new Error('conformance: job aborted')), 50)
  const grace = setup.abortGraceMs ?? 1000
  const settled = await withinMs(starting.then((b) => ({ backend: b }), () => ({ backend: undefined })), 50 + grace,
    `the factory was still starting ${grace} ms after its job was aborted; a factory must watch ctx.signal and give up`)
  await settled.backend?.close()
}

/** Where a value stops being JSON-safe plain data (a Date, Map, function, class instance, NaN, undefined, a cycle). */
function notPlainData(value: unknown, path: string, seen = new Set<object>()): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} is ${value}`
  if (typeof value !== 'object') return `${path} is a ${typeof value}`
  if (seen.has(value)) return `${path} is a cycle`
  seen.add(value)
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = notPlainData(value[i], `${path}[${i}]`, seen)
        if (problem) return problem
      }
      return undefined
    }
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return `${path} is a ${(value as object).constructor?.name ?? 'class instance'}`
    for (const [key, v] of Object.entries(value)) {
      const problem = notPlainData(v, `${path}.${key}`, seen)
      if (problem) return problem
    }
    return undefined
  } finally {
    // Only the path from the root counts: the same object twice is fine, a cycle is not.
    seen.delete(value)
  }
}

async function withinMs<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ConformanceError(message)), ms) })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message || '(no message)'}`
  if (typeof value === 'string') return `the string ${JSON.stringify(value)} (not an Error)`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
