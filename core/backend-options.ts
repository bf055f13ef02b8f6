import type { z } from 'zod'
import { InferbenchError } from './errors.ts'
import type { Scalar } from './types.ts'
import { zodIssuesToMessage } from './zod-message.ts'

/**
 * A backend's options: its plugin-level defaults, overridden by the job's matrix parameters of
 * the same names (so `maxBatch: [0, 16]` in a describe sweeps them), validated by its schema.
 * Parameters the schema does not know belong to other parts of the job and are left alone.
 */
export function backendOptions<S extends z.ZodObject>(
  schema: S, params: Readonly<Record<string, Scalar>>, defaults: object, backend: string,
): z.output<S> {
  const known = Object.keys(schema.shape)
  const fromParams = Object.fromEntries(known.filter((k) => params[k] !== undefined).map((k) => [k, params[k]]))
  const parsed = schema.safeParse({ ...defaults, ...fromParams })
  if (!parsed.success) throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${backend} backend: ${zodIssuesToMessage(parsed.error)}`)
  return parsed.data
}
