/**
 * `inferbench`: what a bench file and a config import.
 */
export { describe, bench, beforeAll, afterAll } from './api.ts'
export { model, type ModelRef, type FileModelRef, type GeneratedModelRef } from './model-ref.ts'
export {
  workload, type WorkloadRef, type ClosedWorkloadOptions, type OpenWorkloadOptions, type PoissonWorkloadOptions,
} from './workload.ts'
export { defineConfig, type UserConfig } from './config.ts'
export { processor, type PipelineSpec } from './pipeline.ts'
export { definePlugin, type Plugin } from './plugin.ts'
export type { BenchOptions, MatrixOptions, SloSpec, WarmupSpec, CheckFn, CheckContext, FunctionBenchOptions } from './tree.ts'
export type { Duration, Scalar } from './types.ts'
export type { JobReport, RunReport, Measurement } from './report.ts'
