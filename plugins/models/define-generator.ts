import type { z } from 'zod'
import { InferbenchError, seedFromString, stableStringify, zodIssuesToMessage, type ModelGenerator } from '../../core/plugin-api.ts'
import { GraphBuilder } from './onnx-builder.ts'

export interface GeneratorDefinition<S extends z.ZodType<Record<string, string | number | boolean>>> {
  name: string
  /** Bump when the graph changes: part of the cache key. */
  version: number
  description: string
  schema: S
  build(g: GraphBuilder, params: z.output<S>): void
}

/**
 * A model generator from a zod schema of its hyper-parameters and a function that adds the
 * graph to a builder. Weights are seeded from the parameters, so equal specs give equal bytes.
 */
export function defineGenerator<S extends z.ZodType<Record<string, string | number | boolean>>>(def: GeneratorDefinition<S>): ModelGenerator {
  return {
    version: def.version,
    description: def.description,
    normalize(params) {
      const result = def.schema.safeParse(params)
      if (!result.success) {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID', `model '${def.name}': ${zodIssuesToMessage(result.error)}`)
      }
      return result.data
    },
    generate(params, options = {}) {
      const g = new GraphBuilder(def.name, seedFromString(`${def.name}:${stableStringify(params)}`), options)
      def.build(g, params as z.output<S>)
      return g.build(`${def.name} ${stableStringify(params)}`)
    },
  }
}
