import type * as ort from 'onnxruntime-node'
import { z } from 'zod'
import { InferbenchError, zodIssuesToMessage } from '../../core/plugin-api.ts'

const GRAPH_OPTIMIZATION = ['disabled', 'basic', 'extended', 'all'] as const

/** Session options, as plugin defaults and as matrix parameters of the same names. */
export const ortOptionsSchema = z.strictObject({
  /** Threads inside one operator (0: onnxruntime's default, one per physical core). */
  intraOpThreads: z.number().int().nonnegative().optional(),
  /** Threads across independent operators (only used with executionMode 'parallel'). */
  interOpThreads: z.number().int().nonnegative().optional(),
  graphOptimization: z.enum(GRAPH_OPTIMIZATION).optional(),
  /** 'cpu', 'cuda', ...: the providers compiled into the installed onnxruntime-node. */
  executionProviders: z.union([z.string(), z.array(z.string())]).optional(),
  executionMode: z.enum(['sequential', 'parallel']).optional(),
  /**
   * Whether idle intra-op threads spin-wait for work (onnxruntime's default) or sleep. Spinning
   * buys a little latency with a lot of CPU; on a small machine it starves the load generator.
   * Unset, it is onnxruntime's default, except under an open loop on the generator's own thread,
   * where threads sleep (the generator must wake on time to keep its schedule).
   */
  allowSpinning: z.boolean().optional(),
  /** Integer inputs (token ids, masks) are drawn from [0, intHigh). */
  intHigh: z.number().int().positive().optional(),
  /**
   * Where sessions run: 'main' (the benchmark's thread: cheapest, but each inference blocks it),
   * 'worker' (worker threads), or 'auto': main for one instance under one closed-loop client or an
   * open loop, workers otherwise.
   */
  thread: z.enum(['auto', 'main', 'worker']).default('auto'),
  /** Sessions serving in parallel, each in its own worker thread. */
  instances: z.number().int().positive().default(1),
})

export type OrtOptions = z.input<typeof ortOptionsSchema>
type ParsedOrtOptions = z.output<typeof ortOptionsSchema>

export function parseOrtOptions(options: unknown, where: string): ParsedOrtOptions {
  const result = ortOptionsSchema.safeParse(options)
  if (!result.success) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${where}: ${zodIssuesToMessage(result.error)}`)
  return result.data
}

export function toSessionOptions(options: ParsedOrtOptions): ort.InferenceSession.SessionOptions {
  const providers = options.executionProviders === undefined ? undefined
    : Array.isArray(options.executionProviders) ? options.executionProviders : [options.executionProviders]
  return {
    ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.interOpThreads !== undefined ? { interOpNumThreads: options.interOpThreads } : {}),
    ...(options.graphOptimization !== undefined ? { graphOptimizationLevel: options.graphOptimization } : {}),
    ...(options.executionMode !== undefined ? { executionMode: options.executionMode } : {}),
    ...(providers ? { executionProviders: providers } : {}),
    ...(options.allowSpinning !== undefined ? { extra: { session: { intra_op: { allow_spinning: options.allowSpinning ? '1' : '0' } } } } : {}),
  }
}

/**
 * What to do when a GPU execution provider cannot load: the onnxruntime-node installed by default
 * here (.npmrc: onnxruntime-node-install=skip) carries the CPU provider only.
 */
export function providerHint(message: string): string {
  if (!/Failed to load (shared )?library|providers_shared|providers_cuda/i.test(message) || !/cuda|tensorrt|providers_shared/i.test(message)) return ''
  return '. This onnxruntime-node has no CUDA provider: on a machine with CUDA 12, reinstall it with ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node'
}
