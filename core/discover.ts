import { existsSync, statSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import { glob } from 'tinyglobby'

export const BENCH_FILE_GLOBS = ['**/*.bench.ts', '**/*.bench.yaml', '**/*.bench.yml']

/**
 * The bench files to run. A filter naming an existing file or folder selects it directly, even
 * outside `include` (so `inferbench bench/self/` runs suites the default include leaves out);
 * any other filter keeps the included files whose path contains it.
 */
export async function discoverBenchFiles(options: {
  root: string
  include: string[]
  exclude: string[]
  filters: string[]
  cwd: string
}): Promise<string[]> {
  const pathFilters: string[] = []
  const textFilters: string[] = []
  for (const filter of options.filters) {
    const path = resolve(options.cwd, filter)
    if (existsSync(path)) pathFilters.push(path)
    else textFilters.push(filter)
  }
  const files = new Set<string>()
  // A folder is searched for bench files named as `include` names them (its last part, e.g.
  // '*.bench.js'), and as the default names them.
  const names = [...new Set([...BENCH_FILE_GLOBS, ...options.include.map((p) => `**/${p.split('/').at(-1)}`)])]
  for (const path of pathFilters) {
    if (statSync(path).isDirectory()) {
      for (const f of await glob(names, { cwd: path, ignore: options.exclude, absolute: true })) files.add(f)
    } else {
      files.add(path)
    }
  }
  if (pathFilters.length === 0 || textFilters.length > 0) {
    const included = await glob(options.include, { cwd: options.root, ignore: options.exclude, absolute: true })
    for (const f of included) {
      const rel = relative(options.root, f)
      if (textFilters.length === 0 || textFilters.some((t) => rel.includes(t) || f.includes(t))) files.add(f)
    }
  }
  return [...files].sort()
}
