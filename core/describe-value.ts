/** A value as it reads in an error message: `string "1 sec"`, `boolean true`, `an object`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'number' && !Number.isFinite(value)) return `number ${String(value)}`
  return `${typeof value} ${JSON.stringify(value)}`
}
