import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * inferbench's own folder (where its package.json is), found by walking up from this file: the
 * same answer from the TypeScript sources and from the compiled package (dist/ is one level
 * deeper), so paths to bin/ and package.json never depend on which one is running.
 */
export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'inferbench') return dir
    if (dirname(dir) === dir) throw new Error(`inferbench: cannot find its package.json above ${from}`)
  }
}
