/**
 * The values of string flags exactly as typed. cac (through mri) turns numeric-looking values
 * into numbers, so `--name ''` arrived as 0 and `--task 007` as 7; these flags are read from argv
 * instead, and an empty value is refused by name rather than stored as "0".
 */
export function rawStringFlags(argv: readonly string[], flags: Record<string, string | undefined>): Record<string, string[]> {
  const found: Record<string, string[]> = {}
  const byToken = new Map<string, string>()
  for (const [long, short] of Object.entries(flags)) {
    byToken.set(`--${long}`, long)
    byToken.set(`--${kebab(long)}`, long)
    if (short) byToken.set(`-${short}`, long)
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') break
    const eq = token.indexOf('=')
    const typed = eq > 0 ? token.slice(0, eq) : token
    const key = byToken.get(typed)
    if (!key) continue
    const value = eq > 0 ? token.slice(eq + 1) : argv[i + 1]
    if (eq < 0) i++
    if (value === undefined || value.trim() === '') {
      throw Object.assign(new Error(`${typed}: expected a value, received ${value === undefined ? 'nothing' : 'an empty string'}`), { name: 'CACError' })
    }
    ;(found[key] ??= []).push(value)
  }
  return found
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)
}
