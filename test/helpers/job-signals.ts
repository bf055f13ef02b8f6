/**
 * The `signal` and `fail` a runner hands a backend factory, for tests that call factories
 * directly: `failures` collects what the backend reported, `abort` stops the job.
 */
export function jobSignals(): { signal: AbortSignal; fail: (error: Error) => void; failures: Error[]; abort: (reason?: unknown) => void } {
  const controller = new AbortController()
  const failures: Error[] = []
  return { signal: controller.signal, fail: (error) => { failures.push(error) }, failures, abort: (reason) => controller.abort(reason) }
}
