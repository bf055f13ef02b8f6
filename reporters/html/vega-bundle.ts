import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { InferbenchError } from '../../core/errors.ts'

const require = createRequire(import.meta.url)
let cached: string | undefined

/**
 * vega, vega-lite and vega-embed's browser builds (the files their `unpkg` field names), to inline
 * in the report: it must open with no network. Read once per process.
 */
export function vegaScripts(): string {
  cached ??= ['vega', 'vega-lite', 'vega-embed'].map((name) => readFileSync(browserBuild(name), 'utf8')).join('\n;\n')
  return cached
}

function browserBuild(name: string): string {
  // The packages' exports hide build/; their root is found from the entry point they do export.
  let dir = dirname(require.resolve(name))
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    const up = dirname(dir)
    if (up === dir) throw new InferbenchError('INFERBENCH_PLUGIN_MISSING', `html reporter: cannot find the ${name} package's folder (npm install ${name})`)
    dir = up
  }
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { unpkg?: string; jsdelivr?: string }
  return join(dir, pkg.unpkg ?? pkg.jsdelivr ?? `build/${name}.min.js`)
}
