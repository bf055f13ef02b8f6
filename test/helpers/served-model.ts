import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildFc } from '../../plugins/models/fc.ts'
import { serve, type RunningServer, type ServeOptions } from '../../plugins/server/serve.ts'

/** A generated MLP written to a fresh temp folder, for tests that serve it. */
export function tempMlp(layers: number, width: number, inputDim: number, outputDim: number): { dir: string; path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'inferbench-served-'))
  const path = join(dir, 'mlp.onnx')
  writeFileSync(path, buildFc({ layers, width, inputDim, outputDim, activation: 'relu' }))
  return { dir, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** `inferbench serve` in this process on 127.0.0.1 (HTTP on a free port, one instance), with overrides. */
export function serveForTest(models: ServeOptions['models'], options: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return serve({ models, host: '127.0.0.1', httpPort: 0, instances: 1, maxBodyBytes: 1 << 20, version: 'test', ...options })
}
