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

/**
 * `--outputFile <path>` or `--outputFile.<reporter>=<path>` (repeatable per reporter), read from
 * argv as typed: cac turns `--outputFile.json=` into `true` and joins repeats into "a,b".
 */
export function outputFileFlags(argv: readonly string[]): string | Record<string, string> | undefined {
  let plain: string | undefined
  const perReporter: Record<string, string> = {}
  const fail = (message: string) => Object.assign(new Error(message), { name: 'CACError' })
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') break
    const match = /^--output-?[Ff]ile(?:\.([^=]*))?(?:=(.*))?$/s.exec(token)
    if (!match) continue
    const [, reporter, inline] = match
    const value = inline ?? argv[++i]
    const flag = `--outputFile${reporter !== undefined ? `.${reporter}` : ''}`
    if (value === undefined || value.trim() === '') throw fail(`${flag}: expected a file path, received ${value === undefined ? 'nothing' : 'an empty string'}`)
    if (reporter === undefined) {
      if (plain !== undefined) throw fail(`${flag} is given twice (${plain} and ${value}); give it once`)
      plain = value
      continue
    }
    // Names of Object.prototype would be lost (or become a prototype) in the config object.
    if (!/^[\w-]+$/.test(reporter) || reporter in Object.prototype || reporter === '__proto__') throw fail(`${flag}: '${reporter}' is not a reporter name`)
    if (Object.hasOwn(perReporter, reporter)) throw fail(`${flag} is given twice (${perReporter[reporter]} and ${value}); give it once`)
    perReporter[reporter] = value
  }
  if (plain !== undefined && Object.keys(perReporter).length) throw fail(`give either --outputFile <path> or --outputFile.<reporter>=<path>, not both`)
  return plain ?? (Object.keys(perReporter).length ? perReporter : undefined)
}
