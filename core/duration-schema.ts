import { z } from 'zod'
import { describeValue } from './describe-value.ts'
import { DURATION_FORMS, parseDurationMs } from './duration.ts'

/** A zod schema accepting a duration string or milliseconds, producing milliseconds. */
export const durationSchema = z.union([z.number(), z.string()], {
  error: (issue) => `expected ${DURATION_FORMS}, received ${describeValue(issue.input)}`,
}).transform((value, ctx) => {
  const ms = parseDurationMs(value)
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected ${DURATION_FORMS}, received ${describeValue(value)}`,
    })
    return z.NEVER
  }
  return ms
})
