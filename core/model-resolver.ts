import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InferbenchError } from './errors.ts'
import { sha256, stableStringify } from './hash.ts'
import { modelLabel, type GeneratedModelRef, type ModelRef } from './model-ref.ts'
import type { PluginRegistry, ResolvedModel } from './plugin.ts'
import { ModelRepository } from './store/model-repository.ts'

export interface ModelLocations {
  cacheDir: string
  /** The model repository's folder, for model.repo() references. */
  repositoryDir: string
}

/** Turns a bench's model reference into bytes on disk: a user's file, a generated model from the cache, or a repository entry. */
export async function resolveModel(ref: ModelRef, registry: PluginRegistry, where: ModelLocations): Promise<ResolvedModel> {
  switch (ref.source) {
    case 'file':
      return { ...(await resolveFile(ref.path, ref, modelLabel(ref))), ...(ref.dims ? { dims: ref.dims } : {}) }
    case 'generate':
      return resolveGenerated(ref, registry, where.cacheDir)
    case 'repo': {
      const repository = new ModelRepository(where.repositoryDir)
      try {
        const { record, bytes, path } = repository.read(ref.ref)
        return { name: `${record.name}@${record.version}`, path, bytes, sha256: record.sha256, ref, ...(ref.dims ? { dims: ref.dims } : {}) }
      } finally {
        repository.close()
      }
    }
  }
}

async function resolveFile(path: string, ref: ModelRef, name: string): Promise<ResolvedModel> {
  let bytes: Uint8Array
  try {
    bytes = await readFile(path)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `model file ${path}: ${(error as Error).message}`, { cause: error })
  }
  return { name, path, bytes, sha256: sha256(bytes), ref }
}

interface CacheEntry {
  sha256: string
  family: string
  version: number
  params: Record<string, unknown>
}

/**
 * Generated models are cached by a hash of (family, generator version, normalised parameters).
 * A sidecar records the file's sha256; an entry whose bytes no longer match is regenerated.
 */
async function resolveGenerated(ref: GeneratedModelRef, registry: PluginRegistry, cacheDir: string): Promise<ResolvedModel> {
  const generator = registry.generator(ref.family)
  const params = generator.normalize(ref.params)
  const key = sha256(stableStringify({ family: ref.family, version: generator.version, params })).slice(0, 16)
  const dir = join(cacheDir, 'models')
  const path = join(dir, `${ref.family}-${key}.onnx`)
  const sidecar = `${path}.json`
  const name = modelLabel(ref)
  const cached = await readCached(path, sidecar)
  if (cached) return { name, path, bytes: cached.bytes, sha256: cached.sha256, ref }

  let bytes: Uint8Array
  try {
    bytes = await generator.generate(params)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_MODEL_GENERATION_FAILED',
      `generating model ${name}: ${(error as Error).message}`, { cause: error })
  }
  const digest = sha256(bytes)
  await mkdir(dir, { recursive: true })
  // Write then rename, so a concurrent reader never sees half a file.
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
  await writeFile(tmp, bytes)
  await rename(tmp, path)
  const entry: CacheEntry = { sha256: digest, family: ref.family, version: generator.version, params }
  await writeFile(`${sidecar}.${process.pid}.tmp`, JSON.stringify(entry, null, 2))
  await rename(`${sidecar}.${process.pid}.tmp`, sidecar)
  return { name, path, bytes, sha256: digest, ref }
}

async function readCached(path: string, sidecar: string): Promise<{ bytes: Uint8Array; sha256: string } | undefined> {
  try {
    const entry = JSON.parse(await readFile(sidecar, 'utf8')) as CacheEntry
    const bytes = await readFile(path)
    const digest = sha256(bytes)
    return digest === entry.sha256 ? { bytes, sha256: digest } : undefined
  } catch {
    // Missing or unreadable entry: regenerate.
    return undefined
  }
}
