/**
 * Awaits `work` unless `signal` aborts first, then rejects with the abort's reason at once. What
 * `work` yields after the abort is handed to `onLate` (e.g. a backend that finished starting after
 * its job timed out is closed), so nothing started for an abandoned job is left running.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal, onLate?: (value: T) => unknown): Promise<T> {
  if (signal.aborted) {
    void work.then((value) => onLate?.(value), () => undefined)
    return Promise.reject(signal.reason)
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const onAbort = () => {
      settled = true
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        if (settled) void onLate?.(value)
        else resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        if (!settled) reject(error)
      },
    )
  })
}

/** `work`, or `onTimeout()`'s value when it takes longer than `ms` (the work itself is not stopped). */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([work, new Promise<T>((resolve) => { timer = setTimeout(() => resolve(onTimeout()), ms) })])
  } finally {
    clearTimeout(timer)
  }
}
