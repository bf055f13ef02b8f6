/**
 * Polls `probe` every 50 ms until it answers true or `timeoutMs` passes, then throws naming
 * `what` and the last reason the probe gave (a string, or the error it threw). Gives up at once,
 * with the abort's reason, when `signal` aborts: the job is stopping.
 */
export async function waitUntilReady(probe: () => Promise<true | string>, options: { timeoutMs: number; what: string; signal?: AbortSignal }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  let last = ''
  while (Date.now() < deadline) {
    options.signal?.throwIfAborted()
    try {
      const answer = await probe()
      if (answer === true) return
      last = answer
    } catch (error) {
      const e = error as Error
      last = e.cause instanceof Error ? e.cause.message : e.message
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${options.what} was not ready within ${options.timeoutMs} ms (${last})`)
}
