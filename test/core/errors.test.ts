import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, USAGE_ERROR_CODES } from '../../core/errors.ts'
import { REPO_ROOT } from '../helpers/temp-project.ts'

describe('docs/errors.md', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/errors.md'), 'utf8')
  const rows = new Map([...doc.matchAll(/^\| `(INFERBENCH_[A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]))

  it('explains every error code, and only those', () => {
    expect([...rows.keys()].sort()).toEqual([...ERROR_CODES].sort())
  })

  it('gives each code the exit code the CLI uses', () => {
    for (const code of ERROR_CODES) {
      const exit = rows.get(code)!
      if (code === 'INFERBENCH_INTERRUPTED') expect(exit).toMatch(/^130/)
      else expect(exit, code).toBe(USAGE_ERROR_CODES.has(code) ? '2' : '1')
    }
  })
})
