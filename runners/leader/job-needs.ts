import type { Job } from '../../core/plan.ts'
import type { JobNeeds } from './task-queue.ts'

/** Execution providers that run on an accelerator (ONNX Runtime's names, lower-cased, 'ExecutionProvider' dropped). */
const GPU_PROVIDERS = /^(cuda|tensorrt|rocm|migraphx|dml|webgpu)/i

/**
 * What a planned job asks of the follower that runs it: its backend, registered there, and a GPU
 * when it names a GPU execution provider (onnxruntime's `executionProviders`, the server's
 * `executionProvider`) or shares one under CUDA MPS.
 */
export function jobNeeds(job: Job): JobNeeds | undefined {
  if (job.kind !== 'serving') return undefined
  const providers = [job.params.executionProviders, job.params.executionProvider].filter((p) => p !== undefined).map(String)
  return { backend: job.backend, gpu: Boolean(job.sharing?.mps) || providers.some((p) => GPU_PROVIDERS.test(p)) }
}
