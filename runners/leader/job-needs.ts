import type { Job } from '../../core/plan.ts'
import { namesGpuProvider } from '../../plugins/shared/gpu-providers.ts'
import type { JobNeeds } from './task-queue.ts'

/**
 * What a planned job asks of the follower that runs it: its backend, registered there, and a GPU
 * when it names a GPU execution provider or shares one under CUDA MPS.
 */
export function jobNeeds(job: Job): JobNeeds | undefined {
  if (job.kind !== 'serving') return undefined
  return { backend: job.backend, gpu: Boolean(job.sharing?.mps) || namesGpuProvider(job.params) }
}
