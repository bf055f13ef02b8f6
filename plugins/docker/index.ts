import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { loadDockerode } from '../shared/load-dockerode.ts'
import { z } from 'zod'
import { InferbenchError, backendOptions, definePlugin, parseDurationMs, requireModel, type BackendFactory, type Plugin } from '../../core/plugin-api.ts'
import { createV2Backend } from '../shared/v2/v2-backend.ts'
import { createTfServingBackend } from '../tfserving/index.ts'
import { tritonRepository } from './model-repository-layout.ts'

interface Preset {
  image: string
  cmd?: string[]
  family: 'kserve' | 'tfserving'
  ports: { http: number; grpc: number }
}

/** Serving images the docker backend knows how to lay a model out for and talk to. */
export const PRESETS: Record<string, Preset> = {
  triton: { image: 'nvcr.io/nvidia/tritonserver:24.08-py3', cmd: ['tritonserver', '--model-repository=/models'], family: 'kserve', ports: { http: 8000, grpc: 8001 } },
  tfserving: { image: 'tensorflow/serving:2.16.1', family: 'tfserving', ports: { http: 8501, grpc: 8500 } },
}

const paramsSchema = z.object({
  /** 'triton', 'tfserving', or an image reference (then `family`, `httpPort`, `grpcPort` describe it). */
  image: z.string().default('triton'),
  family: z.enum(['kserve', 'tfserving']).optional(),
  httpPort: z.number().int().positive().optional(),
  grpcPort: z.number().int().positive().optional(),
  protocol: z.enum(['http', 'grpc']).default('http'),
  /** The Docker Engine socket; default DOCKER_HOST (unix://) or /var/run/docker.sock. */
  socketPath: z.string().optional(),
  /** TF Serving serves SavedModels: a directory holding saved_model.pb for this model. */
  savedModelDir: z.string().optional(),
  maxBatch: z.number().int().nonnegative().default(0),
  maxQueueDelay: z.union([z.string(), z.number()]).default('100us'),
  gpus: z.boolean().default(false),
  startTimeoutMs: z.number().int().positive().default(300_000),
})

function defaultSocket(): string {
  const host = process.env.DOCKER_HOST
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock'
}

/**
 * `docker`: starts a serving container (Triton, TF Serving, or any image) with the job's model
 * laid out as that server expects, waits until it is ready, benchmarks it through the matching
 * client, then stops and removes it. Cold start is split into container create, start → ready.
 */
export function dockerLauncher(): Plugin {
  const factory: BackendFactory = async (ctx) => {
    const model = requireModel(ctx, 'docker')
    const p = backendOptions(paramsSchema, ctx.params, {}, 'docker')
    const preset: Preset = PRESETS[p.image] ?? {
      image: p.image, family: p.family ?? 'kserve', ports: { http: p.httpPort ?? 8000, grpc: p.grpcPort ?? 8001 },
    }
    if (preset.family === 'tfserving' && !p.savedModelDir) {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID', `docker backend: TF Serving serves SavedModels, not ONNX; set savedModelDir to the SavedModel of ${model.name}`)
    }
    const socketPath = p.socketPath ?? defaultSocket()
    const Docker = await loadDockerode()
    const docker = new Docker({ socketPath })
    try {
      await docker.ping()
    } catch (error) {
      throw new InferbenchError('INFERBENCH_BACKEND_FAILED',
        `no Docker engine reachable at unix://${socketPath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the docker backend needs a running engine — start one, or set socketPath / DOCKER_HOST`, { cause: error })
    }
    const modelName = model.name.replace(/@\d+$/, '').replace(/[^A-Za-z0-9_.-]/g, '_')
    mkdirSync(ctx.cacheDir, { recursive: true })
    const hostDir = mkdtempSync(join(ctx.cacheDir, `docker-${ctx.jobId}-`))
    let mount: string
    if (preset.family === 'tfserving') {
      mount = `${p.savedModelDir}:/models/${modelName}/1:ro`
    } else {
      const delayMs = parseDurationMs(typeof p.maxQueueDelay === 'number' ? `${p.maxQueueDelay}us` : p.maxQueueDelay) ?? 0.1
      mount = `${tritonRepository(hostDir, modelName, model.path, { maxBatch: p.maxBatch, maxQueueDelayUs: delayMs * 1000 })}:/models:ro`
    }
    const ports = [preset.ports.http, preset.ports.grpc].map((port) => `${port}/tcp`)
    const created = performance.now()
    const container = await docker.createContainer({
      name: `inferbench-${ctx.jobId}-${Date.now().toString(36)}`,
      Image: preset.image,
      ...(preset.cmd ? { Cmd: preset.cmd } : {}),
      Env: preset.family === 'tfserving' ? [`MODEL_NAME=${modelName}`] : [],
      ExposedPorts: Object.fromEntries(ports.map((port) => [port, {}])),
      HostConfig: {
        Binds: [mount],
        // Loopback only, on free host ports.
        PortBindings: Object.fromEntries(ports.map((port) => [port, [{ HostIp: '127.0.0.1', HostPort: '' }]])),
        ...(p.gpus ? { DeviceRequests: [{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }] } : {}),
      },
    })
    const createMs = performance.now() - created
    const stop = async () => {
      await container.stop({ t: 10 }).catch((error: { statusCode?: number }) => { if (error.statusCode !== 304 && error.statusCode !== 404) throw error })
      await container.remove({ force: true }).catch((error: { statusCode?: number }) => { if (error.statusCode !== 404) throw error })
      rmSync(hostDir, { recursive: true, force: true })
    }
    try {
      const started = performance.now()
      await container.start()
      const inspected = await container.inspect()
      const hostPort = (port: number) => Number(inspected.NetworkSettings.Ports[`${port}/tcp`]?.[0]?.HostPort)
      const port = p.protocol === 'http' ? hostPort(preset.ports.http) : hostPort(preset.ports.grpc)
      if (!port) throw new InferbenchError('INFERBENCH_BACKEND_FAILED', `container ${inspected.Id.slice(0, 12)} published no host port for ${p.protocol}`)
      const extra = {
        close: stop,
        containers: [{ id: inspected.Id, socketPath }],
        info: { container: { id: inspected.Id, image: preset.image, port } },
      }
      const backend = preset.family === 'tfserving'
        ? await createTfServingBackend(ctx, { url: p.protocol === 'http' ? `http://127.0.0.1:${port}` : `grpc://127.0.0.1:${port}`, modelName, readyTimeoutMs: p.startTimeoutMs }, extra)
        : await createV2Backend(ctx, {
          protocol: p.protocol, address: p.protocol === 'http' ? `http://127.0.0.1:${port}` : `127.0.0.1:${port}`, modelName,
          encoding: 'binary', connections: 64, readyTimeoutMs: p.startTimeoutMs, intHigh: 2,
        }, extra)
      return { ...backend, coldStart: { containerCreateMs: createMs, startToReadyMs: performance.now() - started } }
    } catch (error) {
      await stop()
      throw error
    }
  }
  return definePlugin({ name: 'inferbench:docker', backends: { docker: factory }, optionSchemas: { docker: paramsSchema } })
}
