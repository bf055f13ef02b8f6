import type { Scalar } from '../../core/types.ts'

/** Execution providers that run on an accelerator (ONNX Runtime's names, matched from the start, any case). */
const GPU_PROVIDERS = /^(cuda|tensorrt|rocm|migraphx|dml|webgpu)/i

/**
 * Whether a job's parameters put it on a GPU: onnxruntime's `executionProviders` or the server
 * backend's `executionProvider` names a GPU provider.
 */
export function namesGpuProvider(params: Readonly<Record<string, Scalar>>): boolean {
  return [params.executionProviders, params.executionProvider].some((p) => p !== undefined && GPU_PROVIDERS.test(String(p)))
}
