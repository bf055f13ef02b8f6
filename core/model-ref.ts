import { basename, extname, isAbsolute, resolve } from 'node:path'
import { currentBenchFile } from './collector.ts'

/**
 * What a bench names as its model. Plain data: resolving it into ONNX bytes happens at run
 * time (core/model-resolver.ts), so `--list` never loads or generates anything.
 */
export type ModelRef = FileModelRef | GeneratedModelRef | RepoModelRef

export interface FileModelRef {
  source: 'file'
  /** Absolute path (a relative path is resolved against the bench file's folder). */
  path: string
  name?: string
  /** Sizes for the model's symbolic input dimensions by name; job parameters of the same name win. */
  dims?: Record<string, number>
}

export interface GeneratedModelRef {
  source: 'generate'
  family: string
  /** Hyper-parameters; an array value is a sweep, expanded into one job per value. */
  params: Record<string, unknown>
}

export interface RepoModelRef {
  source: 'repo'
  /** 'name' (latest version) or 'name@3'. */
  ref: string
  dims?: Record<string, number>
}

export const model = {
  /** An ONNX file on disk; a relative path is taken from the bench file's folder. */
  file(path: string, options: { name?: string; dims?: Record<string, number> } = {}): FileModelRef {
    const base = currentBenchFile()
    const absolute = isAbsolute(path) ? path : resolve(base ? resolve(base, '..') : process.cwd(), path)
    return {
      source: 'file', path: absolute, ...(options.name ? { name: options.name } : {}), ...(options.dims ? { dims: { ...options.dims } } : {}),
    }
  },
  /** A model produced by a generator plugin, e.g. `model.generate('fc', { layers: [2, 4], width: 256 })`. */
  generate(family: string, params: Record<string, unknown> = {}): GeneratedModelRef {
    return { source: 'generate', family, params: { ...params } }
  },
  /**
   * A real architecture with seeded weights: resnet18, resnet50, mobilenet_v2, vgg16, bert_base,
   * bert_large, lstm_textclf (and any a plugin adds). Its few options (imageSize, seqLen) sweep too.
   */
  zoo(name: string, params: Record<string, unknown> = {}): GeneratedModelRef {
    return { source: 'generate', family: name, params: { ...params } }
  },
  /** A model from the model repository (`inferbench model add`): 'name' for the latest version, or 'name@3'. */
  repo(ref: string, options: { dims?: Record<string, number> } = {}): RepoModelRef {
    return { source: 'repo', ref, ...(options.dims ? { dims: { ...options.dims } } : {}) }
  },
}

export function isModelRef(value: unknown): value is ModelRef {
  if (value === null || typeof value !== 'object') return false
  const source = (value as { source?: unknown }).source
  return source === 'file' || source === 'generate' || source === 'repo'
}

/** A short human label for tables and job names: `resnet50`, `fc(layers=2,width=256)`. */
export function modelLabel(ref: ModelRef): string {
  switch (ref.source) {
    case 'file':
      return ref.name ?? basename(ref.path, extname(ref.path))
    case 'repo':
      return ref.ref
    case 'generate': {
      const args = Object.entries(ref.params).map(([k, v]) => `${k}=${String(v)}`)
      return args.length ? `${ref.family}(${args.join(',')})` : ref.family
    }
  }
}
