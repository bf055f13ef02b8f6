#!/usr/bin/env node
// Bench files, configs and inferbench itself are TypeScript, loaded without a build step. Both
// hooks are needed: a .ts file in a package without "type": "module" is compiled as CommonJS.
import { register as registerCommonJs } from 'tsx/cjs/api'
import { register } from 'tsx/esm/api'

register()
registerCommonJs()
const { main } = await import('../cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
