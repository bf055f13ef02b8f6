/**
 * `inferbench/plugin`: what a plugin author needs. Built-in plugins import from here too.
 */
export { definePlugin, createRegistry, requireModel, connectionsFor } from './plugin.ts'
export type {
  Plugin, PluginRegistry, Backend, BackendContext, BackendFactory, InferAnswer, ServerTimings, ServerStatistics, ResolvedModel,
  ModelGenerator, ModelAnalyzer, Tensor, TensorMap, RunAnswer, ProcessorSpec, DataItem, DataSetContext, DataSetFactory, ProcessorModel, PreprocessFn, PostprocessFn, Processor, ModelStats, WorkloadFactory, Reporter, ReporterFactory, ReporterOptions, AxisClaim, Probe, ProbeFactory, ProbeContext, ContainerRef, SharingSpec, CostModel, CostInput, LinkFactory,
} from './plugin.ts'
export { InferbenchError, serializeError, type ErrorCode, type SerializedError } from './errors.ts'
export { parseDurationMs, formatMs } from './duration.ts'
export { durationSchema } from './duration-schema.ts'
export { abortable } from './abort.ts'
export { seededRng, exponential, seedFromString, type Rng } from './rng.ts'
export { sha256, stableStringify } from './hash.ts'
export { constantArrivals, poissonArrivals } from './loadgen/arrivals.ts'
export type { WorkloadPlan, ClosedWorkloadPlan, OpenWorkloadPlan } from './workload.ts'
export type { Job, ServingJob, FunctionJob } from './plan.ts'
export type { JobReport, JobProgress, RunReport, Measurement, CostFigures, PowerPart } from './report.ts'
export type { CostSettings } from './config.ts'
export { zodIssuesToMessage } from './zod-message.ts'
export { backendOptions } from './backend-options.ts'
export type { Scalar } from './types.ts'
