import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { z } from 'zod'
import { InferbenchError, backendOptions, connectionsFor, definePlugin, parseDurationMs, requireModel, type Backend, type BackendFactory, type Plugin, type ServerStatistics } from '../../core/plugin-api.ts'
import { PACKAGE_ROOT } from '../../core/package-root.ts'
import { createV2Backend } from '../shared/v2/v2-backend.ts'
import { startMps } from './mps.ts'

const CLI = join(PACKAGE_ROOT, 'bin/inferbench.js')

/** Matrix parameters of the `server` backend. */
const paramsSchema = z.object({
  protocol: z.enum(['http', 'grpc']).default('http'),
  /** Dynamic batching: merge up to this many rows (0 or 1: off). */
  maxBatch: z.number().int().nonnegative().default(0),
  /** Dynamic batching delay: '100us', '2ms', or microseconds as a number. */
  maxQueueDelay: z.union([z.string(), z.number()]).default('100us'),
  /** Preferred batch sizes, e.g. '4,8' or 8. */
  preferredBatch: z.union([z.string(), z.number()]).optional(),
  instances: z.number().int().positive().default(1),
  /** Where the server runs its instances: auto (one on the main thread, several in workers), main or worker. */
  instanceThread: z.enum(['auto', 'main', 'worker']).default('auto'),
  intraOpThreads: z.number().int().nonnegative().optional(),
  /** onnxruntime execution providers of the server's sessions, comma-separated: 'cuda', 'cpu', ... */
  executionProvider: z.string().optional(),
  encoding: z.enum(['binary', 'json']).default('binary'),
  startTimeoutMs: z.number().int().positive().default(120_000),
})

/**
 * `server`: starts `inferbench serve` as a child process for the job (its own process, so the
 * client and server compete for the machine as they would in a co-located deployment), waits
 * until ready, and talks KServe v2 to it over HTTP or gRPC.
 */
export function serverBackend(): Plugin {
  const factory: BackendFactory = async (ctx) => {
    const model = requireModel(ctx, 'server')
    const p = backendOptions(paramsSchema, ctx.params, {}, 'server')
    const delay = typeof p.maxQueueDelay === 'number' ? `${p.maxQueueDelay}us` : p.maxQueueDelay
    if (parseDurationMs(delay) === undefined) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `server backend: maxQueueDelay: expected a duration like '100us', received ${delay}`)
    const modelName = 'model'
    const args = [CLI, 'serve', '--quiet', '--model', `${model.path}:${modelName}`, '--http-port', p.protocol === 'http' ? '0' : 'off',
      '--grpc-port', p.protocol === 'grpc' ? '0' : 'off', '--instances', String(p.instances), '--instance-thread', p.instanceThread, '--max-batch', String(p.maxBatch),
      '--max-queue-delay', delay, ...(p.preferredBatch !== undefined ? ['--preferred-batch', String(p.preferredBatch)] : []),
      ...(p.intraOpThreads !== undefined ? ['--intra-op-threads', String(p.intraOpThreads)] : []),
      ...(p.executionProvider !== undefined ? ['--execution-provider', p.executionProvider] : []),
      ...(ctx.serverPre ? ['--preprocess', JSON.stringify(ctx.serverPre)] : [])]
    if (ctx.serverPre && p.protocol !== 'http') throw new InferbenchError('INFERBENCH_BENCH_INVALID', `server backend: placement 'server' sends raw items over HTTP; protocol '${p.protocol}' is not supported for it yet`)
    // GPU sharing: the MPS daemon (checked and started before any server), then one server per copy.
    const copies = ctx.sharing?.instances ?? 1
    const mps = ctx.sharing?.mps ? await startMps() : undefined
    const servers: LaunchedServer[] = []
    const stopAll = async () => {
      await Promise.all(servers.map((s) => s.stop()))
      await mps?.stop()
    }
    try {
      const launched = performance.now()
      for (let i = 0; i < copies; i++) servers.push(launchServer(args, mps?.env ?? {}, ctx))
      const ready = await Promise.all(servers.map((s) => s.ready(p.startTimeoutMs)))
      const spawnToReadyMs = performance.now() - launched
      const connections = Math.max(1, Math.ceil(connectionsFor(ctx) / copies))
      const clients = await Promise.all(ready.map(async (r, i) => {
        const address = p.protocol === 'http' ? `http://127.0.0.1:${r.http}` : `127.0.0.1:${r.grpc}`
        // Requests cross the job's emulated network, if it names one; the metrics scrape does not.
        const via = ctx.route ? await ctx.route(address) : address
        return createV2Backend(ctx, { protocol: p.protocol, address: via, modelName, encoding: p.encoding, connections, readyTimeoutMs: 10_000, intHigh: 2 },
          i === 0 ? { ...(p.protocol === 'http' ? { metricsUrl: `${address}/metrics` } : {}) } : {})
      }))
      const first = clients[0]!
      const pids = servers.map((s) => s.child.pid).filter((pid): pid is number => pid !== undefined)
      const info = {
        ...first.info,
        server: { pids, addresses: ready.map((r) => (p.protocol === 'http' ? `http://127.0.0.1:${r.http}` : `127.0.0.1:${r.grpc}`)), args: args.slice(1), batching: p.maxBatch > 1 ? { maxBatch: p.maxBatch, maxQueueDelay: delay, preferredBatch: p.preferredBatch } : 'off' },
        ...(ctx.sharing ? { sharing: { copies, mps: Boolean(mps), ...(mps ? { pipeDirectory: mps.env.CUDA_MPS_PIPE_DIRECTORY } : {}) } } : {}),
      }
      let next = 0
      return {
        // Round-robin over the copies: each sees 1/copies of the load.
        infer: copies === 1 ? first.infer : () => clients[next++ % copies]!.infer(),
        ...(first.run ? { run: copies === 1 ? first.run : (inputs, outputs) => clients[next++ % copies]!.run!(inputs, outputs) } : {}),
        ...(first.io ? { io: first.io } : {}),
        ...(first.statistics ? { statistics: () => summedStatistics(clients) } : {}),
        close: async () => {
          await Promise.all(clients.map((c) => c.close()))
          await stopAll()
        },
        pids,
        ...(first.metricsUrl ? { metricsUrl: first.metricsUrl } : {}),
        ...(first.versions ? { versions: first.versions } : {}),
        coldStart: { spawnToReadyMs, serverModelLoadMs: Math.max(...ready.map((r) => r.loadMs)) },
        // Every instance of every copy, and with batching full batches (requests of `batch` rows each).
        warmupConcurrency: copies * Math.max(p.instances, p.maxBatch > 1 ? Math.floor(p.maxBatch / Math.max(ctx.batch, 1)) : 1),
        info,
      }
    } catch (error) {
      await stopAll()
      throw error
    }
  }
  return definePlugin({ name: 'inferbench:server', backends: { server: factory }, optionSchemas: { server: paramsSchema }, sharing: ['server'], routes: ['server'], serverProcessing: ['server'] })
}

/** The copies' counters added up; undefined when any copy keeps none. */
async function summedStatistics(clients: Backend[]): Promise<ServerStatistics | undefined> {
  const all = await Promise.all(clients.map((c) => c.statistics?.()))
  if (all.some((s) => s === undefined)) return undefined
  return all.reduce<ServerStatistics>((sum, s) => ({ requests: sum.requests + s!.requests, queueUs: sum.queueUs + s!.queueUs, computeUs: sum.computeUs + s!.computeUs }), { requests: 0, queueUs: 0, computeUs: 0 })
}

interface LaunchedServer {
  child: ChildProcess
  ready(timeoutMs: number): Promise<ReadyLine>
  stop(): Promise<void>
}

/**
 * One `inferbench serve` child. A server that dies mid-job ends the job at once, named by how it
 * ended, instead of leaving the load generator to count connection errors against a dead port.
 */
function launchServer(args: string[], env: Record<string, string>, ctx: Parameters<BackendFactory>[0]): LaunchedServer {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, INFERBENCH_PARENT_PID: String(process.pid) } })
  const log = captureStderr(child)
  let serving = false
  let stopping = false
  child.once('exit', (code, signal) => {
    if (serving && !stopping) ctx.fail(new InferbenchError('INFERBENCH_BACKEND_DIED', `inferbench serve exited: ${signal ?? `code ${code}`}${log.lastLines()}`))
  })
  return {
    child,
    async ready(timeoutMs) {
      const line = await waitForReadyLine(child, timeoutMs, log, ctx.signal)
      serving = true
      return line
    },
    stop() {
      stopping = true
      return stopChild(child)
    },
  }
}

interface ReadyLine {
  http: number | null
  grpc: number | null
  loadMs: number
}

/** The child's stderr, kept for error messages: the server prints its reason as one last line. */
function captureStderr(child: ChildProcess): { lastLines(): string } {
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8000) })
  return {
    lastLines() {
      // onnxruntime colours its log lines: escape codes would garble the job's error message.
      const lines = stderr.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n').filter(Boolean)
      return lines.length ? `: ${lines.slice(-3).join(' | ').slice(-2000)}` : ''
    },
  }
}

function waitForReadyLine(child: ChildProcess, timeoutMs: number, log: { lastLines(): string }, signal: AbortSignal): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    const fail = (why: string) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      reject(new InferbenchError('INFERBENCH_BACKEND_FAILED', `inferbench serve ${why}${log.lastLines()}`))
    }
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const line = stdout.split('\n').find((l) => l.startsWith('{"event":"ready"'))
      if (line) {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        resolve(JSON.parse(line) as ReadyLine)
      }
    })
    // 'close', not 'exit': stderr has been read to its end by then, so the reason is in the message.
    child.once('close', (code, sig) => fail(`exited (${sig ?? `code ${code}`}) before it was ready`))
    child.once('error', (error) => fail(`could not start: ${error.message}`))
  })
}

/** SIGTERM (the server drains), then SIGKILL if it has not exited in 10 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
