import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { InferbenchError } from '../errors.ts'
import type { DataItem, Tensor } from '../plugin.ts'

/** A data set registered with `inferbench data add`: a folder of files, or a JSONL file. */
export interface RegisteredDataSet {
  name: string
  /** Absolute path. */
  path: string
  kind: 'files' | 'jsonl'
  items: number
  addedAt: string
}

export interface LoadedDataSet {
  items: DataItem[]
  /** Items that could not be read or parsed, with the path (and line) and why. */
  bad: Array<{ source: string; reason: string }>
}

const NAME = /^[A-Za-z0-9][\w.-]{0,63}$/

/** The project's data set list, beside its model repository and PerfDB. */
export function dataRegistryPath(root: string): string {
  return join(root, '.inferbench', 'data.json')
}

export function readDataRegistry(root: string): Record<string, RegisteredDataSet> {
  const file = dataRegistryPath(root)
  if (!existsSync(file)) return {}
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { sets: Record<string, RegisteredDataSet> }).sets ?? {}
  } catch (error) {
    throw new InferbenchError('INFERBENCH_CONFIG_INVALID', `${file}: not a data set list written by inferbench data add (${(error as Error).message}); fix or delete it`, { cause: error })
  }
}

/** Registers a folder or a JSONL file under `name`, reading every item once to count it and report the bad ones. */
export function addDataSet(root: string, path: string, name: string): { set: RegisteredDataSet; bad: LoadedDataSet['bad'] } {
  if (!NAME.test(name)) throw new InferbenchError('INFERBENCH_USAGE', `data add: --name must be letters, digits, '.', '_' or '-' (up to 64), received '${name}'`)
  const absolute = resolve(root, path)
  if (!existsSync(absolute)) throw new InferbenchError('INFERBENCH_USAGE', `data add: no file or folder ${absolute}`)
  const kind = statSync(absolute).isDirectory() ? 'files' : absolute.endsWith('.jsonl') ? 'jsonl' : undefined
  if (!kind) throw new InferbenchError('INFERBENCH_USAGE', `data add: ${absolute}: expected a folder of files (images, videos) or a .jsonl file of texts or tensors`)
  const set: RegisteredDataSet = { name, path: absolute, kind, items: 0, addedAt: new Date().toISOString() }
  // Counted, not read: a folder of many large files must not be loaded into memory to register it.
  const loaded = set.kind === 'files' ? loadFolder(absolute, false) : loadJsonl(absolute)
  if (loaded.items.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `data add: ${absolute} holds no usable item${loaded.bad.length ? `; ${describeBad(loaded.bad)}` : ''}`)
  set.items = loaded.items.length
  const sets = { ...readDataRegistry(root), [name]: set }
  mkdirSync(dirname(dataRegistryPath(root)), { recursive: true })
  writeFileSync(dataRegistryPath(root), `${JSON.stringify({ sets }, null, 2)}\n`)
  return { set, bad: loaded.bad }
}

export function removeDataSet(root: string, name: string): void {
  const sets = readDataRegistry(root)
  if (!sets[name]) throw new InferbenchError('INFERBENCH_USAGE', `data rm: no data set '${name}'; registered: ${Object.keys(sets).join(', ') || 'none'}`)
  delete sets[name]
  writeFileSync(dataRegistryPath(root), `${JSON.stringify({ sets }, null, 2)}\n`)
}

/** Every item of a registered set, read now: files as bytes, JSONL lines as texts or tensors. */
export function loadUserDataSet(set: RegisteredDataSet): LoadedDataSet {
  if (!existsSync(set.path)) {
    throw new InferbenchError('INFERBENCH_DATA_INVALID', `data set '${set.name}': ${set.path} no longer exists; register it again with inferbench data add`)
  }
  return set.kind === 'files' ? loadFolder(set.path) : loadJsonl(set.path)
}

/** Every file below `root`, sorted; with `read` false each is only checked to be readable and non-empty (bytes left out). */
function loadFolder(root: string, read = true): LoadedDataSet {
  const items: DataItem[] = []
  const bad: LoadedDataSet['bad'] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else {
        try {
          if (!read) {
            accessSync(path, constants.R_OK)
            if (statSync(path).size === 0) bad.push({ source: path, reason: 'empty file' })
            else items.push({ source: path })
            continue
          }
          const bytes = readFileSync(path)
          if (bytes.length === 0) bad.push({ source: path, reason: 'empty file' })
          else items.push({ source: path, bytes })
        } catch (error) {
          bad.push({ source: path, reason: (error as Error).message })
        }
      }
    }
  }
  walk(root)
  return { items, bad }
}

function loadJsonl(file: string): LoadedDataSet {
  const items: DataItem[] = []
  const bad: LoadedDataSet['bad'] = []
  readFileSync(file, 'utf8').split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return
    const source = `${file}:${i + 1}`
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      bad.push({ source, reason: `not JSON (${(error as Error).message})` })
      return
    }
    if (typeof value === 'string') items.push({ source, text: value })
    else if (value && typeof value === 'object' && typeof (value as { text?: unknown }).text === 'string') items.push({ source, text: (value as { text: string }).text })
    else if (value && typeof value === 'object' && (value as { tensors?: unknown }).tensors !== undefined) {
      const tensors = parseTensors((value as { tensors: unknown }).tensors)
      if (typeof tensors === 'string') bad.push({ source, reason: tensors })
      else items.push({ source, tensors })
    } else bad.push({ source, reason: 'expected a JSON string, {"text": "..."} or {"tensors": {"<input>": {"type": "float32", "dims": [..], "data": [..]}}}' })
  })
  return { items, bad }
}

const NUMERIC: Record<string, (values: number[]) => Tensor['data']> = {
  float32: (v) => Float32Array.from(v), float64: (v) => Float64Array.from(v), int32: (v) => Int32Array.from(v),
  int64: (v) => BigInt64Array.from(v.map((x) => BigInt(x))), uint8: (v) => Uint8Array.from(v), int8: (v) => Int8Array.from(v), bool: (v) => Uint8Array.from(v),
}

/** One item's tensors (each one sample: the pipeline stacks items into the batch), or why not. */
function parseTensors(value: unknown): Record<string, Tensor> | string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return '"tensors" must be an object of input name → { type, dims, data }'
  const out: Record<string, Tensor> = {}
  for (const [name, t] of Object.entries(value as Record<string, unknown>)) {
    const { type = 'float32', dims, data } = (t ?? {}) as { type?: string; dims?: unknown; data?: unknown }
    const make = NUMERIC[type]
    if (!make) return `tensors.${name}: type '${type}' is not one of ${Object.keys(NUMERIC).join(', ')}`
    if (!Array.isArray(data) || !data.every((x) => typeof x === 'number' && Number.isFinite(x))) return `tensors.${name}: "data" must be a flat array of numbers`
    const shape = dims === undefined ? [data.length] : dims
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0) || shape.reduce((a: number, d: number) => a * d, 1) !== data.length) {
      return `tensors.${name}: "dims" ${JSON.stringify(dims)} does not hold the ${data.length} values of "data"`
    }
    out[name] = { type: type as Tensor['type'], dims: shape as number[], data: make(data as number[]) }
  }
  return out
}

/** 'a.jpg: empty file; b.txt:3: not JSON …' with at most 5 named. */
export function describeBad(bad: LoadedDataSet['bad'], cwd = process.cwd()): string {
  const shown = bad.slice(0, 5).map((b) => `${b.source.startsWith(cwd) ? relative(cwd, b.source) || basename(b.source) : b.source}: ${b.reason}`)
  return `${bad.length} bad item${bad.length === 1 ? '' : 's'}: ${shown.join('; ')}${bad.length > 5 ? `; and ${bad.length - 5} more` : ''}`
}
