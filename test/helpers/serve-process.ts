import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { CLI } from './temp-project.ts'

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams
  http: number | null
  grpc: number | null
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>
  stderr(): string
}

/** `inferbench serve` as a real child process, resolved once it printed its ready line. */
export function startServe(args: string[], cwd?: string): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n').find((l) => l.startsWith('{"event":"ready"'))
      if (line) {
        const ready = JSON.parse(line) as { http: number | null; grpc: number | null }
        resolve({ child, http: ready.http, grpc: ready.grpc, exited, stderr: () => err })
      }
    })
    void exited.then((code) => reject(new Error(`inferbench serve exited (${code}) before it was ready:\n${err}`)))
  })
}

/** Runs `inferbench serve` expecting it to fail: its exit code, output and how long it took. */
export function serveFailure(args: string[], cwd?: string, timeoutMs = 30_000): Promise<{ code: number | string; stdout: string; stderr: string; ms: number }> {
  const started = performance.now()
  const child = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}), env: { ...process.env, NO_COLOR: '1' } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  return new Promise((resolve, reject) => {
    // A server that stays up after a start-up failure is the bug this catches.
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`inferbench serve ${args.join(' ')} still running after ${timeoutMs} ms:\n${stdout}\n${stderr}`)) }, timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? signal ?? -1, stdout, stderr, ms: performance.now() - started })
    })
  })
}
