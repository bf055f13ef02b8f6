import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE_ROOT } from '../core/package-root.ts'

/** inferbench's own version, from its package.json (in its own module: `--version` loads nothing else). */
export const INFERBENCH_VERSION = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version
