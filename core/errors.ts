/**
 * One error type with stable codes, so callers (the CLI, reporters, tests) branch on `code`
 * instead of parsing messages. Every message says what was wrong, where, and what was expected.
 * docs/errors.md explains each code with its exit code (a test keeps the two in step).
 */
export const ERROR_CODES = [
  'INFERBENCH_CONFIG_INVALID',
  'INFERBENCH_CONFIG_NOT_FOUND',
  'INFERBENCH_BENCH_INVALID',
  'INFERBENCH_BENCH_LOAD_FAILED',
  'INFERBENCH_USAGE',
  'INFERBENCH_PLUGIN_CONFLICT',
  'INFERBENCH_PLUGIN_MISSING',
  'INFERBENCH_MODEL_NOT_FOUND',
  'INFERBENCH_MODEL_UNLOADABLE',
  'INFERBENCH_MODEL_CORRUPT',
  'INFERBENCH_MODEL_GENERATION_FAILED',
  'INFERBENCH_BATCH_UNSUPPORTED',
  'INFERBENCH_INPUT_UNSYNTHESISABLE',
  'INFERBENCH_DATA_INVALID',
  'INFERBENCH_BACKEND_FAILED',
  'INFERBENCH_CHECK_FAILED',
  'INFERBENCH_HOOK_FAILED',
  'INFERBENCH_MODEL_INVALID',
  'INFERBENCH_OUTPUT_UNWRITABLE',
  'INFERBENCH_NO_JOBS',
  'INFERBENCH_INTERRUPTED',
  'INFERBENCH_JOB_TIMEOUT',
  'INFERBENCH_BACKEND_DIED',
  'INFERBENCH_SERVE_FAILED',
  'INFERBENCH_PERFDB',
  'INFERBENCH_REPORT_INVALID',
  'INFERBENCH_RUN_NOT_FOUND',
  'INFERBENCH_MACHINE_BUSY',
] as const

export type ErrorCode = typeof ERROR_CODES[number]

/** Exit codes of the CLI: shells read 130 as "ended by Ctrl-C". */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const

/**
 * Codes that mean the input was wrong (config, bench file, flag, model file): the CLI exits 2 when
 * one ends a command. Any other code that ends a command exits 1; inside a run, an error ends only
 * its job (status 'errored') and the run exits 1 (130 when interrupted).
 */
export const USAGE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INFERBENCH_CONFIG_INVALID', 'INFERBENCH_CONFIG_NOT_FOUND', 'INFERBENCH_BENCH_INVALID', 'INFERBENCH_BENCH_LOAD_FAILED',
  'INFERBENCH_USAGE', 'INFERBENCH_PLUGIN_CONFLICT', 'INFERBENCH_PLUGIN_MISSING', 'INFERBENCH_MODEL_NOT_FOUND',
  'INFERBENCH_MODEL_INVALID', 'INFERBENCH_MODEL_UNLOADABLE', 'INFERBENCH_BATCH_UNSUPPORTED', 'INFERBENCH_OUTPUT_UNWRITABLE',
  'INFERBENCH_REPORT_INVALID', 'INFERBENCH_RUN_NOT_FOUND',
])

export class InferbenchError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'InferbenchError'
    this.code = code
  }
}

export interface SerializedError {
  name: string
  code?: string
  message: string
  stack?: string
  cause?: SerializedError
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return {
      name: error.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: error.message,
      ...(error.stack ? { stack: error.stack } : {}),
      ...(error.cause !== undefined ? { cause: serializeError(error.cause) } : {}),
    }
  }
  return { name: 'NonError', message: String(error) }
}

export function isInferbenchError(error: unknown, code?: ErrorCode): error is InferbenchError {
  return error instanceof InferbenchError && (code === undefined || error.code === code)
}
