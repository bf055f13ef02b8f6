import type { ServerStatistics } from '../../../core/plugin-api.ts'

/** One model's entry of Triton's statistics extension (HTTP JSON or gRPC, same field names). */
export interface TritonModelStatistics {
  inference_stats?: Partial<Record<string, { count?: number | string; ns?: number | string }>>
}

/**
 * Cumulative counters over every version listed: answered requests, queue and compute time
 * (compute = input + infer + output, each request counted with its whole batch's duration).
 */
export function sumStatistics(models: readonly TritonModelStatistics[]): ServerStatistics {
  let requests = 0
  let queueNs = 0
  let computeNs = 0
  for (const m of models) {
    const s = m.inference_stats ?? {}
    requests += Number(s.success?.count ?? 0)
    queueNs += Number(s.queue?.ns ?? 0)
    computeNs += Number(s.compute_input?.ns ?? 0) + Number(s.compute_infer?.ns ?? 0) + Number(s.compute_output?.ns ?? 0)
  }
  return { requests, queueUs: queueNs / 1000, computeUs: computeNs / 1000 }
}
