import type { z } from 'zod'

/** One line per zod issue: `field.path: what was wrong`. For plugin option errors. */
export function zodIssuesToMessage(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.')
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => `${path ? `${path}.` : ''}${k}: unknown option`).join('; ')
    return `${path || '(options)'}: ${issue.message.replace(/^Invalid input: /, '')}`
  }).join('; ')
}
