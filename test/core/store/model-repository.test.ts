import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ModelRepository } from '../../../core/store/model-repository.ts'
import { buildFc } from '../../../plugins/models/fc.ts'
import { ortSignature } from '../../../plugins/onnxruntime/signature.ts'
import { REPO_ROOT } from '../../helpers/temp-project.ts'

const dirs: string[] = []
afterEach(() => { while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true }) })
function repo(validate = true) {
  const dir = mkdtempSync(join(tmpdir(), 'inferbench-repo-'))
  dirs.push(dir)
  return new ModelRepository(dir, validate ? ortSignature : undefined)
}
const tiny = (width: number) => buildFc({ layers: 1, width, inputDim: 4, outputDim: 2, activation: 'relu' })

describe('model repository', () => {
  it('registers versions, reads them back, updates metadata, searches, deletes', async () => {
    const r = repo()
    const v1 = await r.register('mlp', tiny(8), { task: 'classification', framework: 'onnx', tags: ['small'] })
    const v2 = await r.register('mlp', tiny(16), { task: 'classification', tags: ['small', 'wide'] })
    await r.register('other', tiny(4), { task: 'regression' })
    expect([v1.version, v2.version]).toEqual([1, 2])
    expect(v1.signature).toEqual({
      inputs: [{ name: 'input', type: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'output', type: 'float32', shape: ['batch', 2] }],
    })
    expect(r.get('mlp').version).toBe(2)
    expect(r.read('mlp@1').bytes).toEqual(tiny(8))
    expect(r.search({ tag: 'wide' }).map((m) => `${m.name}@${m.version}`)).toEqual(['mlp@2'])
    expect(r.search({ task: 'classification' })).toHaveLength(2)
    expect(r.search({ name: 'oth' }).map((m) => m.name)).toEqual(['other'])
    expect(r.search({ framework: 'onnx' }).map((m) => m.version)).toEqual([1])
    const updated = r.update('mlp@1', { dataset: 'iris', tags: ['legacy'] })
    expect(updated).toMatchObject({ dataset: 'iris', tags: ['legacy'], task: 'classification' })
    expect(r.remove('mlp@1').map((m) => m.version)).toEqual([1])
    expect(r.versions('mlp')).toEqual([2])
    expect(() => r.get('mlp@1')).toThrow(/model 'mlp' has no version 1; versions: 2/)
    expect(r.remove('mlp')).toHaveLength(1)
    expect(() => r.get('mlp')).toThrow(/no model named 'mlp'/)
    // The next registration after a full delete starts again at 1; shared bytes are kept while referenced.
    expect((await r.register('mlp', tiny(4))).version).toBe(1)
    expect(r.read('other').bytes).toEqual(tiny(4))
    r.close()
  })

  it('detects a corrupted file on read', async () => {
    const r = repo()
    const record = await r.register('m', tiny(8))
    writeFileSync(r.blobPath(record.sha256), 'flipped bits')
    expect(() => r.read('m')).toThrow(/m@1: .* is corrupt \(sha256 .*expected .*\); register it again/)
    r.close()
  })

  it('refuses a file onnxruntime cannot load, with the reason', async () => {
    const r = repo()
    await expect(r.register('junk', new TextEncoder().encode('not a model'))).rejects.toMatchObject({
      code: 'INFERBENCH_MODEL_UNLOADABLE', message: expect.stringMatching(/model 'junk' was not registered: onnxruntime cannot load/),
    })
    expect(r.search()).toEqual([])
    expect(() => r.get('bad name!')).toThrow()
    await expect(r.register('bad name!', tiny(4))).rejects.toThrow(/model name 'bad name!': expected letters/)
    r.close()
  })

  it('keeps versions unique and files intact under concurrent registrations from several processes', async () => {
    const r = repo(false)
    const child = (seed: number) => new Promise<number | null>((resolve) => {
      const p = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test/helpers/register-many.ts'), r.dir, 'shared', '5', String(seed)], { cwd: REPO_ROOT, stdio: 'inherit' })
      p.on('close', resolve)
    })
    expect(await Promise.all([1, 2, 3, 4].map(child))).toEqual([0, 0, 0, 0])
    expect(r.versions('shared')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    const contents = new Set(r.search({ name: 'shared' }).map((m) => new TextDecoder().decode(r.read(`shared@${m.version}`).bytes)))
    expect(contents.size).toBe(20)
    r.close()
  })
})
