/**
 * A TypeScript file in a package without "type": "module" is compiled to CommonJS, and its
 * `import ... from 'inferbench'` then fails inside Node with a message about require() cycles.
 * Say what to change instead.
 */
export function moduleFormatHint(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    return ` (the file was loaded as CommonJS: add "type": "module" to the nearest package.json, or rename it to .mts)`
  }
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return ' (plain Node cannot load TypeScript: run the inferbench CLI, which loads it for you, or run your script with a loader such as node --import tsx, or under vitest)'
  }
  return ''
}
