import type { z } from 'zod'
import { InferbenchError, zodIssuesToMessage } from '../../core/plugin-api.ts'

/** A workload's options checked against its schema; the plan prefixes the bench and workload. */
export function parseOptions<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options)
  if (!result.success) throw new InferbenchError('INFERBENCH_BENCH_INVALID', zodIssuesToMessage(result.error))
  return result.data
}
