import { existsSync } from 'node:fs'
import { basename, extname, resolve } from 'node:path'
import { parseDurationMs } from '../core/duration.ts'
import { InferbenchError } from '../core/errors.ts'
import { createRegistry, type ProcessorSpec, type TextSink } from '../core/plugin.ts'
import { DEFAULT_DRAIN_TIMEOUT_MS, serve, type ServeOptions } from '../plugins/server/serve.ts'
import { INFERBENCH_VERSION } from '../runners/version.ts'

export interface ServeFlags {
  model: string[]
  host?: string
  httpPort?: string
  grpcPort?: string
  instances?: string
  instanceThread?: string
  maxBatch?: string
  maxQueueDelay?: string
  preferredBatch?: string
  intraOpThreads?: string
  executionProvider?: string
  maxBodyBytes?: string
  drainTimeout?: string
  /** A processor as JSON ({"type":"image","options":{...}}): requests may send raw items as one BYTES input. */
  preprocess?: string
  /** No informational lines on stderr (a parent process reads the ready line and errors only). */
  quiet?: boolean
}

/**
 * `inferbench serve`: runs until SIGTERM or SIGINT, then drains. Prints one JSON line when ready
 * ({"event":"ready","http":port,"grpc":port,...}) so a parent process can find the ports.
 */
export async function serveCommand(flags: ServeFlags, cwd: string, out: TextSink, log: TextSink): Promise<number> {
  const options = await parseServeFlags(flags, cwd)
  const drainTimeoutMs = flags.drainTimeout === undefined ? DEFAULT_DRAIN_TIMEOUT_MS : parseDurationMs(flags.drainTimeout)
  if (drainTimeoutMs === undefined) throw new InferbenchError('INFERBENCH_USAGE', `serve: --drain-timeout: expected a duration like 30s or 500ms, received ${flags.drainTimeout}`)
  const started = performance.now()
  const running = await serve(options)
  // Listening before the ready line goes out: a supervisor may stop the server the moment it
  // reads it (before, a SIGTERM in that gap killed the server undrained). During start-up a
  // signal still ends the process at once.
  let parentWatch: NodeJS.Timeout | undefined
  const signal = new Promise<string>((resolvePromise) => {
    process.once('SIGTERM', () => resolvePromise('SIGTERM'))
    process.once('SIGINT', () => resolvePromise('SIGINT'))
    // Started by a benchmark (the server backend): a parent that dies without stopping us (SIGKILL,
    // a crash) must not leave this server running, holding cores and a port. Orphaned, the
    // process is re-parented, so its parent id changes.
    const parent = Number(process.env.INFERBENCH_PARENT_PID)
    if (Number.isInteger(parent) && parent > 0) {
      parentWatch = setInterval(() => { if (process.ppid !== parent) resolvePromise('parent process gone') }, 500)
      parentWatch.unref()
    }
  })
  out.write(`${JSON.stringify({
    event: 'ready', http: running.httpPort ?? null, grpc: running.grpcPort ?? null, models: running.server.modelNames(),
    loadMs: Math.round(performance.now() - started), pid: process.pid,
  })}\n`)
  const info = (text: string) => { if (!flags.quiet) log.write(text) }
  info(`inferbench serve: ${running.server.modelNames().join(', ')} on ${options.host}`
    + `${running.httpPort !== undefined ? ` http:${running.httpPort}` : ''}${running.grpcPort !== undefined ? ` grpc:${running.grpcPort}` : ''}`
    + `${options.batching ? `, dynamic batching up to ${options.batching.maxBatch} rows, ${options.batching.maxQueueDelayUs}µs delay` : ''}\n`)
  const received = await signal
  if (parentWatch) clearInterval(parentWatch)
  await running.stop(drainTimeoutMs, () => info(`inferbench serve: ${received}, draining (new connections are refused)\n`))
  info('inferbench serve: stopped\n')
  return 0
}

export async function parseServeFlags(flags: ServeFlags, cwd: string): Promise<ServeOptions> {
  if (flags.model.length === 0) throw new InferbenchError('INFERBENCH_USAGE', 'serve: give at least one --model <path>[:name]')
  const models = flags.model.map((spec) => {
    if (spec.trim() === '') throw new InferbenchError('INFERBENCH_USAGE', `serve: --model: expected <path>[:name], received an empty value`)
    const colon = spec.lastIndexOf(':')
    const hasName = colon > 0 && !spec.slice(colon + 1).includes('/')
    const name = hasName ? spec.slice(colon + 1) : undefined
    if (name !== undefined && name.trim() === '') throw new InferbenchError('INFERBENCH_USAGE', `serve: --model ${spec}: the name after ':' is empty`)
    const path = resolve(cwd, hasName ? spec.slice(0, colon) : spec)
    if (!existsSync(path)) throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `serve: --model ${spec}: no file ${path}`)
    return { path, name: name ?? basename(path, extname(path)) }
  })
  for (const [i, m] of models.entries()) {
    const other = models.findIndex((o) => o.name === m.name)
    if (other !== i) {
      throw new InferbenchError('INFERBENCH_USAGE', `serve: two models are named '${m.name}' (${models[other]!.path} and ${m.path}); name one with --model ${m.path}:<name>`)
    }
  }
  const int = (value: string | undefined, flag: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) => {
    if (value === undefined) return fallback
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min || n > max) {
      throw new InferbenchError('INFERBENCH_USAGE', `serve: ${flag}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`}, received '${value}'`)
    }
    return n
  }
  const port = (value: string | undefined, flag: string, fallback: number) =>
    (value === 'off' ? undefined : int(value, `${flag} (a port, 0 for any free one, or off)`, fallback, 0, 65_535))
  const maxBatch = int(flags.maxBatch, '--max-batch', 0)
  const delayMs = flags.maxQueueDelay === undefined ? 0.1 : parseDurationMs(/^\d+(\.\d+)?$/.test(flags.maxQueueDelay) ? `${flags.maxQueueDelay}us` : flags.maxQueueDelay)
  if (delayMs === undefined) throw new InferbenchError('INFERBENCH_USAGE', `serve: --max-queue-delay: expected a duration like 100us or 2ms, received ${flags.maxQueueDelay}`)
  const preferred = (flags.preferredBatch ?? '').split(',').filter(Boolean).map((s) => int(s.trim(), '--preferred-batch', 1, 1))
  const tooLarge = maxBatch > 1 ? preferred.find((size) => size > maxBatch) : undefined
  if (tooLarge !== undefined) {
    throw new InferbenchError('INFERBENCH_USAGE', `serve: --preferred-batch ${tooLarge} is larger than --max-batch ${maxBatch}; a batch never grows past --max-batch`)
  }
  const instances = int(flags.instances, '--instances', 1, 1)
  const instanceThread = flags.instanceThread ?? 'auto'
  if (instanceThread !== 'auto' && instanceThread !== 'main' && instanceThread !== 'worker') {
    throw new InferbenchError('INFERBENCH_USAGE', `serve: --instance-thread: expected auto, main or worker, received '${instanceThread}'`)
  }
  if (instanceThread === 'main' && instances > 1) {
    throw new InferbenchError('INFERBENCH_USAGE', `serve: --instance-thread main runs one instance; --instances ${instances} needs worker threads (--instance-thread worker or auto)`)
  }
  const intraOp = flags.intraOpThreads === undefined ? undefined : int(flags.intraOpThreads, '--intra-op-threads', 0)
  const httpPort = port(flags.httpPort, '--http-port', 8000)
  const grpcPort = port(flags.grpcPort, '--grpc-port', 8001)
  if (httpPort === undefined && grpcPort === undefined) {
    throw new InferbenchError('INFERBENCH_USAGE', 'serve: --http-port off and --grpc-port off leave nothing to serve on; keep at least one')
  }
  if (httpPort !== undefined && httpPort !== 0 && httpPort === grpcPort) {
    throw new InferbenchError('INFERBENCH_USAGE', `serve: --http-port and --grpc-port are both ${httpPort}; give them different ports`)
  }
  return {
    models,
    host: flags.host ?? '127.0.0.1',
    ...(httpPort !== undefined ? { httpPort } : {}),
    ...(grpcPort !== undefined ? { grpcPort } : {}),
    instances,
    instanceThread,
    ...(maxBatch > 1 ? { batching: { maxBatch, maxQueueDelayUs: delayMs * 1000, preferredBatch: preferred } } : {}),
    ...(intraOp !== undefined ? { intraOpThreads: intraOp } : {}),
    ...(flags.executionProvider !== undefined ? { executionProviders: providerList(flags.executionProvider) } : {}),
    maxBodyBytes: int(flags.maxBodyBytes, '--max-body-bytes', 256 * 1024 * 1024, 1),
    version: INFERBENCH_VERSION,
    ...(flags.preprocess !== undefined ? { preprocess: await rawPreprocess(flags.preprocess) } : {}),
  }
}

/**
 * --preprocess: the built-in processor it names, checked now (a typo fails before any model
 * loads), created once the model's inputs are known. Elements become items as the processor
 * reads them: bytes (image, video) or UTF-8 text.
 */
async function rawPreprocess(json: string): Promise<NonNullable<ServeOptions['preprocess']>> {
  let spec: ProcessorSpec
  try {
    spec = JSON.parse(json) as ProcessorSpec
  } catch (error) {
    throw new InferbenchError('INFERBENCH_USAGE', `serve: --preprocess: expected JSON like '{"type":"image","options":{"size":224}}': ${(error as Error).message}`)
  }
  // Loaded only here: held unused, the built-in plugins slowed `serve`'s start-up and, in lab
  // A/Bs, its requests (docs/overhead.md, "`serve` loads only what it uses").
  const { withBuiltinPlugins } = await import('../runners/builtin-plugins.ts')
  const registry = createRegistry(withBuiltinPlugins([]))
  let processor
  try {
    processor = registry.processor(String(spec?.type))
    if (processor.stage !== 'pre') throw new Error(`'${spec.type}' is a post-processor`)
    processor.check(spec.options ?? {})
  } catch (error) {
    throw new InferbenchError('INFERBENCH_USAGE', `serve: --preprocess: ${(error as Error).message}`)
  }
  const pre = processor
  return async (model) => {
    const fn = await pre.create(spec.options ?? {}, model)
    return async (elements) => fn(elements.map((bytes, i) => (pre.reads === 'text'
      ? { source: `item ${i}`, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') }
      : { source: `item ${i}`, bytes })))
  }
}

function providerList(value: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter(Boolean)
  if (names.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `serve: --execution-provider: expected provider names such as cuda or cuda,cpu, received '${value}'`)
  return names
}
