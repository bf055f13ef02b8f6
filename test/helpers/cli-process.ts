import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { CLI } from './temp-project.ts'

export interface CliProcess {
  child: ChildProcessWithoutNullStreams
  stdout(): string
  stderr(): string
  /** Exit code (or signal name) and when it came (performance.now()). */
  exited: Promise<{ code: number | string; at: number }>
  /** Resolves once stdout matches `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
}

/** The real CLI as a child process we can signal while it runs. */
export function startCli(args: string[], cwd: string): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' } })
  let out = ''
  let err = ''
  const listeners: Array<() => void> = []
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); for (const l of listeners) l() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<{ code: number | string; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code: code ?? signal ?? -1, at: performance.now() })))
  return {
    child, exited, stdout: () => out, stderr: () => err,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stdout never matched ${pattern}:\n${out}\n${err}`)), timeoutMs)
        const check = () => {
          if (!pattern.test(out)) return
          clearTimeout(timer)
          resolve()
        }
        listeners.push(check)
        check()
      })
    },
  }
}

/** True while `pid` runs (a zombie, ended but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** Children of `pid` (Linux /proc). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
