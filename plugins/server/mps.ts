import { spawn, spawnSync } from 'node:child_process'
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { InferbenchError } from '../../core/plugin-api.ts'

export const MPS_CONTROL = 'nvidia-cuda-mps-control'

/** A running CUDA MPS control daemon of our own, with the environment its clients need. */
export interface MpsDaemon {
  /** CUDA_MPS_PIPE_DIRECTORY and CUDA_MPS_LOG_DIRECTORY: a server started with these attaches to this daemon. */
  env: Record<string, string>
  stop(): Promise<void>
}

export function findOnPath(binary: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, binary), constants.X_OK)
      return join(dir, binary)
    } catch {
      // not in this folder
    }
  }
  return undefined
}

/**
 * Starts `nvidia-cuda-mps-control -d` with its own pipe and log folders (so it neither needs root
 * nor meets another user's daemon, default /tmp/nvidia-mps), after checking there is a GPU and the binary: without either
 * it throws before anything started. `stop()` sends `quit` and removes the folders.
 */
export async function startMps(): Promise<MpsDaemon> {
  const binary = findOnPath(MPS_CONTROL)
  const gpus = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 10_000 })
  const listed = gpus.status === 0 ? gpus.stdout.split('\n').filter((l) => l.startsWith('GPU ')).length : 0
  if (!binary || listed === 0) {
    const why = listed === 0
      ? (gpus.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ? 'nvidia-smi is not installed: no NVIDIA GPU or driver here' : `nvidia-smi lists no GPU${gpus.stderr ? ` (${gpus.stderr.trim()})` : ''}`
      : `${MPS_CONTROL} is not on PATH (it ships with the NVIDIA driver's CUDA utilities)`
    throw new InferbenchError('INFERBENCH_BACKEND_FAILED', `sharing.mps: cannot start the CUDA MPS control daemon: ${why}. MPS needs an NVIDIA GPU (Volta or newer) on Linux; drop mps: true to run the copies without it`)
  }
  // Under the system temp folder: the daemon's control socket lives in the pipe folder, and a
  // unix socket path must stay under ~108 bytes (a project's cache folder can be deeper).
  const root = mkdtempSync(join(tmpdir(), 'inferbench-mps-'))
  const env = { CUDA_MPS_PIPE_DIRECTORY: join(root, 'pipe'), CUDA_MPS_LOG_DIRECTORY: join(root, 'log') }
  mkdirSync(env.CUDA_MPS_PIPE_DIRECTORY)
  mkdirSync(env.CUDA_MPS_LOG_DIRECTORY)
  const started = await control(binary, ['-d'], env)
  if (started.code !== 0) {
    const log = readLog(env.CUDA_MPS_LOG_DIRECTORY)
    rmSync(root, { recursive: true, force: true })
    throw new InferbenchError('INFERBENCH_BACKEND_FAILED', `sharing.mps: ${MPS_CONTROL} -d exited with ${started.code}${started.output ? `: ${started.output}` : ''}${log ? ` (control.log: ${log})` : ''}`)
  }
  return {
    env,
    async stop() {
      await control(binary, [], env, 'quit\n')
      rmSync(root, { recursive: true, force: true })
    },
  }
}

function control(binary: string, args: string[], env: Record<string, string>, input?: string): Promise<{ code: number | string; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('error', (error) => { clearTimeout(timer); resolve({ code: error.message, output }) })
    child.once('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? signal ?? -1, output: output.trim().slice(-1000) }) })
    child.stdin.end(input ?? '')
  })
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'control.log'), 'utf8').trim().split('\n').slice(-3).join(' | ')
  } catch {
    return ''
  }
}
