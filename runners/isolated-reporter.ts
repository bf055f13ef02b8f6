import type { Reporter } from '../core/plugin.ts'

type Hook = keyof Reporter

/**
 * A reporter whose failures stay its own: a hook that throws (or rejects) is named in a warning,
 * the reporter is skipped from then on, and the run, the other reporters and the exit code go on
 * as if it had not been there. Every hook is awaited, so an async failure cannot escape later.
 */
export function isolateReporter(name: string, reporter: Reporter, warn: (message: string) => void): Reporter {
  let broken = false
  const guard = <H extends Hook>(hook: H) => {
    const fn = reporter[hook] as ((...args: unknown[]) => unknown) | undefined
    if (!fn) return undefined
    return async (...args: unknown[]) => {
      if (broken) return
      try {
        await fn.apply(reporter, args)
      } catch (error) {
        broken = true
        warn(`reporter '${name}' failed in ${hook}: ${error instanceof Error ? error.message : String(error)}; it is skipped for the rest of the run`)
      }
    }
  }
  const hooks: Hook[] = ['onRunStart', 'onJobStart', 'onJobProgress', 'onJobEnd', 'onRunEnd']
  return Object.fromEntries(hooks.flatMap((h) => {
    const guarded = guard(h)
    return guarded ? [[h, guarded]] : []
  })) as Reporter
}
