import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { InferbenchError, backendOptions, definePlugin, parseDurationMs, requireModel, type BackendFactory, type Plugin } from '../../core/plugin-api.ts'
import { createV2Backend } from '../kserve/v2-backend.ts'

const CLI = fileURLToPath(new URL('../../bin/inferbench.js', import.meta.url))

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
  intraOpThreads: z.number().int().nonnegative().optional(),
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
    const args = [CLI, 'serve', '--model', `${model.path}:${modelName}`, '--http-port', p.protocol === 'http' ? '0' : 'off',
      '--grpc-port', p.protocol === 'grpc' ? '0' : 'off', '--instances', String(p.instances), '--max-batch', String(p.maxBatch),
      '--max-queue-delay', delay, ...(p.preferredBatch !== undefined ? ['--preferred-batch', String(p.preferredBatch)] : []),
      ...(p.intraOpThreads !== undefined ? ['--intra-op-threads', String(p.intraOpThreads)] : [])]
    const launched = performance.now()
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const stop = () => stopChild(child)
    try {
      const ready = await waitForReadyLine(child, p.startTimeoutMs)
      const spawnToReadyMs = performance.now() - launched
      const address = p.protocol === 'http' ? `http://127.0.0.1:${ready.http}` : `127.0.0.1:${ready.grpc}`
      return await createV2Backend(ctx, {
        protocol: p.protocol, address, modelName, encoding: p.encoding, connections: 64, readyTimeoutMs: 10_000, intHigh: 2,
      }, {
        close: stop,
        coldStart: { spawnToReadyMs, serverModelLoadMs: ready.loadMs },
        info: { server: { pid: child.pid, args: args.slice(1), batching: p.maxBatch > 1 ? { maxBatch: p.maxBatch, maxQueueDelay: delay, preferredBatch: p.preferredBatch } : 'off' } },
      })
    } catch (error) {
      await stop()
      throw error
    }
  }
  return definePlugin({ name: 'inferbench:server', backends: { server: factory } })
}

interface ReadyLine {
  http: number | null
  grpc: number | null
  loadMs: number
}

function waitForReadyLine(child: ChildProcess, timeoutMs: number): Promise<ReadyLine> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => fail(`not ready within ${timeoutMs} ms`), timeoutMs)
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new InferbenchError('INFERBENCH_BACKEND_FAILED', `inferbench serve ${why}${stderr.trim() ? `:\n${stderr.trim().slice(-2000)}` : ''}`))
    }
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const line = stdout.split('\n').find((l) => l.startsWith('{"event":"ready"'))
      if (line) {
        clearTimeout(timer)
        resolve(JSON.parse(line) as ReadyLine)
      }
    })
    child.once('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before it was ready`))
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
