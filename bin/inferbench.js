#!/usr/bin/env node
// Bench files and configs are TypeScript, loaded without a build step. Both hooks are needed: a
// .ts file in a package without "type": "module" is compiled as CommonJS.
import { existsSync } from 'node:fs'
import { register as registerCommonJs } from 'tsx/cjs/api'
import { register } from 'tsx/esm/api'

register()
registerCommonJs()
// `inferbench show | head`: a reader that stops early is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => { if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw error })
}
// A checkout runs its TypeScript sources; the published package ships only the compiled dist/.
const source = new URL('../cli/main.ts', import.meta.url)
const { main } = await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href)
process.exitCode = await main(process.argv.slice(2))
