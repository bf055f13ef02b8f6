#!/usr/bin/env node
// Bench files, configs and inferbench itself are TypeScript, loaded without a build step.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../cli/main.ts')
process.exitCode = await main(process.argv.slice(2))
