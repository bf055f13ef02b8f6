import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CLI = join(REPO_ROOT, 'bin/inferbench.js')

/**
 * A throwaway project that depends on inferbench the way a user's would (node_modules/inferbench),
 * with the given files. Shares the repo's model cache so generated models are reused.
 */
export function tempProject(files: Record<string, string>, options: { esm?: boolean } = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'inferbench-test-'))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(REPO_ROOT, join(dir, 'node_modules/inferbench'), 'dir')
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user-project', private: true, ...(options.esm === false ? {} : { type: 'module' }) }))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), content)
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real CLI as a child process. */
export function runCli(args: string[], cwd: string, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: '1', FORCE_COLOR: '0', NO_COLOR: '1' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`CLI timed out: ${args.join(' ')}\n${stdout}\n${stderr}`)) }, timeoutMs)
    child.on('close', (code) => { clearTimeout(timer); resolvePromise({ code, stdout, stderr }) })
  })
}

/** Shared cache for generated models, so tests do not regenerate them. */
export const TEST_CACHE_DIR = join(REPO_ROOT, 'node_modules/.cache/inferbench-test')
