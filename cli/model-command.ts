import { existsSync, readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type * as OnnxTypes from 'onnx-proto'
import c from 'picocolors'
import { loadConfig } from '../core/config.ts'
import { InferbenchError } from '../core/errors.ts'
import { createRegistry, type PluginRegistry, type TextSink } from '../core/plugin.ts'
import { ModelRepository, type ModelMetadata, type ModelRecord } from '../core/store/model-repository.ts'
import { analyzeModel, analyzeOnnx, type ModelAnalysis } from '../plugins/models/analysis/index.ts'
import { decodeOnnxModel } from '../plugins/models/onnx-decode.ts'
import { ortSignature } from '../plugins/onnxruntime/signature.ts'
import { fmtRate, table } from '../reporters/format.ts'
import { replacedNotice, withBuiltinPlugins } from '../runners/builtin-plugins.ts'

export interface ModelFlags {
  config?: string
  batch?: number
  param?: string[]
  generate?: string
  name?: string
  task?: string
  framework?: string
  dataset?: string
  tag?: string[]
  description?: string
  json?: boolean
}

type OnnxModel = OnnxTypes.onnx.ModelProto

const ACTIONS = ['inspect', 'add', 'ls', 'show', 'rm', 'update'] as const

/** `inferbench model <inspect|add|ls|show|rm|update>`. Returns the exit code. */
export async function modelCommand(action: string, args: string[], flags: ModelFlags, cwd: string, out: TextSink): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new InferbenchError('INFERBENCH_USAGE', `model ${action}: unknown action; expected one of ${ACTIONS.join(', ')}`)
  }
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })
  const registry = createRegistry(withBuiltinPlugins(config.plugins, (name) => process.stderr.write(replacedNotice(name))))
  const params = parseParams(flags.param ?? [])
  if (action === 'inspect') {
    const target = need(args[0], 'model inspect <file|generator>')
    const analysis = await inspect(target, params, flags.batch, registry, cwd)
    out.write(flags.json ? `${JSON.stringify(analysis, null, 2)}\n` : formatAnalysis(target, flags.batch ?? 1, analysis))
    return 0
  }
  const repository = new ModelRepository(config.repository, ortSignature)
  try {
    switch (action) {
      case 'add': {
        const name = need(flags.name, 'model add: --name <name>')
        let record: ModelRecord
        if (flags.generate) {
          const generator = registry.generator(flags.generate)
          const normalized = generator.normalize(params)
          const bytes = await generator.generate(normalized)
          record = await repository.register(name, bytes, { ...metadata(flags), spec: { family: flags.generate, params: normalized } })
        } else {
          const file = resolve(cwd, need(args[0], 'model add <file> --name <name> (or --generate <family>)'))
          if (!existsSync(file)) throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `model add: no file ${file}`)
          if (statSync(file).isDirectory()) throw new InferbenchError('INFERBENCH_USAGE', `model add: ${file} is a directory; give an .onnx file`)
          const bytes = readFileSync(file)
          decodeOnnxModel(bytes, file) // the reason in one line (empty, text, an image, truncated) before onnxruntime's
          record = await repository.register(name, bytes, metadata(flags))
        }
        out.write(flags.json ? `${JSON.stringify(record, null, 2)}\n` : `registered ${c.bold(`${record.name}@${record.version}`)} (${(record.size / 1e6).toFixed(1)} MB, sha256 ${record.sha256.slice(0, 12)})\n`)
        return 0
      }
      case 'ls': {
        const records = repository.search({
          ...(args[0] ?? flags.name ? { name: args[0] ?? flags.name } : {}), ...(flags.tag?.[0] ? { tag: flags.tag[0] } : {}),
          ...(flags.task ? { task: flags.task } : {}), ...(flags.framework ? { framework: flags.framework } : {}),
        })
        out.write(flags.json ? `${JSON.stringify(records, null, 2)}\n` : `${listTable(records)}\n`)
        return 0
      }
      case 'show': {
        const record = repository.read(need(args[0], 'model show <name[@version]>')).record
        out.write(`${JSON.stringify(record, null, 2)}\n`)
        return 0
      }
      case 'update': {
        const record = repository.update(need(args[0], 'model update <name[@version]>'), metadata(flags))
        out.write(flags.json ? `${JSON.stringify(record, null, 2)}\n` : `updated ${record.name}@${record.version}\n`)
        return 0
      }
      case 'rm': {
        const removed = repository.remove(need(args[0], 'model rm <name[@version]>'))
        out.write(`removed ${removed.map((r) => `${r.name}@${r.version}`).join(', ')}\n`)
        return 0
      }
    }
  } finally {
    repository.close()
  }
  return 0
}

async function inspect(target: string, params: Record<string, string | number | boolean>, batchFlag: number | undefined, registry: PluginRegistry, cwd: string): Promise<ModelAnalysis> {
  const path = resolve(cwd, target)
  const batch = batchFlag ?? 1
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new InferbenchError('INFERBENCH_USAGE', `model inspect: ${path} is a directory; give an .onnx file`)
    const model = decodeOnnxModel(readFileSync(path), path)
    const dims = Object.fromEntries(Object.entries(params).filter((e): e is [string, number] => typeof e[1] === 'number'))
    checkDimSizes(model, params, batchFlag)
    checkInputShapes(model, path, dims, batchFlag)
    return analyzeModel(model, { batch, dims })
  }
  if (!registry.names('generators').includes(target)) {
    throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND',
      `model inspect: '${target}' is neither a file nor a generator; generators: ${registry.names('generators').join(', ')}`)
  }
  const generator = registry.generator(target)
  const bytes = await generator.generate(generator.normalize(params), { weights: false })
  return analyzeOnnx(bytes, { batch, dims: {} })
}

/**
 * Every input dimension must be known before analysis: a fixed batch cannot be changed with
 * --batch, and a named dimension needs its size (--param name=N), or the figures would be wrong.
 */
function checkInputShapes(model: OnnxModel, path: string, dims: Record<string, number>, batchFlag: number | undefined): void {
  const graph = model.graph!
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name))
  const missing: string[] = []
  for (const input of graph.input ?? []) {
    if (initializers.has(input.name)) continue
    for (const [axis, d] of (input.type?.tensorType?.shape?.dim ?? []).entries()) {
      const fixed = d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : undefined
      if (axis === 0 && fixed !== undefined && batchFlag !== undefined && batchFlag !== fixed) {
        throw new InferbenchError('INFERBENCH_BATCH_UNSUPPORTED',
          `model inspect: ${path} has a fixed batch of ${fixed} (input '${input.name}' is [${shapeText(input)}]); drop --batch ${batchFlag}, or export the model with a dynamic first dimension`)
      }
      if (fixed !== undefined || axis === 0 || (d.dimParam && dims[d.dimParam] !== undefined)) continue
      const problem = d.dimParam
        ? `dim '${d.dimParam}' (input '${input.name}', axis ${axis}) needs --param ${quoteParam(d.dimParam)}=N`
        : `input '${input.name}' axis ${axis} has neither a size nor a name, so it cannot be bound`
      if (!missing.some((m) => d.dimParam && m.startsWith(`dim '${d.dimParam}'`))) missing.push(problem)
    }
  }
  if (missing.length) throw new InferbenchError('INFERBENCH_USAGE', `model inspect: ${path}: ${missing.join('; ')}`)
}

/**
 * A size given for a named dimension must be a positive integer: -3, 0, 1.5 or abc would be
 * analysed as nonsense. A name no dimension has is a typo (said, with the names there are), and
 * the batch axis is sized by --batch alone, so that the figures count the batch they say.
 */
function checkDimSizes(model: OnnxModel, params: Record<string, string | number | boolean>, batchFlag: number | undefined): void {
  const dims = (model.graph?.input ?? []).flatMap((i) => (i.type?.tensorType?.shape?.dim ?? []).flatMap((d, axis) => (d.dimParam ? [{ name: d.dimParam, axis }] : [])))
  const named = new Set(dims.map((d) => d.name))
  for (const [key, value] of Object.entries(params)) {
    if (!named.has(key)) {
      throw new InferbenchError('INFERBENCH_USAGE', `model inspect: --param ${quoteParam(key)}: the model has no dimension of that name; its named dimensions: ${[...named].join(', ') || 'none'}`)
    }
    if (dims.filter((d) => d.name === key).every((d) => d.axis === 0) && value !== (batchFlag ?? 1)) {
      throw new InferbenchError('INFERBENCH_USAGE', `model inspect: --param ${quoteParam(key)}=${String(value)}: '${key}' is the batch dimension (axis 0); use --batch ${String(value)}`)
    }
    if (named.has(key) && !(typeof value === 'number' && Number.isInteger(value) && value > 0)) {
      throw new InferbenchError('INFERBENCH_USAGE', `model inspect: --param ${quoteParam(key)}=${String(value)}: the size of a dimension must be a positive integer`)
    }
  }
}

function shapeText(input: OnnxTypes.onnx.IValueInfoProto): string {
  return (input.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || (d.dimValue ? String(d.dimValue) : '?')).join(',')
}

function quoteParam(name: string): string {
  return /^[A-Za-z_][\w]*$/.test(name) ? name : `'${name}'`
}

function formatAnalysis(target: string, batch: number, a: ModelAnalysis): string {
  const g = (x: number) => (x / 1e9).toFixed(3)
  const rows = Object.entries(a.perOp).sort(([, x], [, y]) => y.flops - x.flops).map(([op, cost]) => [
    op, String(cost.count), g(cost.flops), g(cost.macs), (cost.bytes / 1e6).toFixed(1),
    a.flops > 0 ? `${((cost.flops / a.flops) * 100).toFixed(1)}%` : '-',
  ])
  const lines = [
    `${c.bold(target)}  batch ${batch}  inputs ${a.inputs.map((i) => `${i.name}[${i.shape.join(',')}]`).join(' ')}`,
    '',
    table(['operator', 'nodes', 'GFLOPs', 'GMACs', 'MB moved', 'of FLOPs'], rows),
    '',
    `parameters     ${a.params.toLocaleString('en-US')} (${(a.weightBytes / 1e6).toFixed(1)} MB)`,
    `FLOPs          ${g(a.flops)} G   (MACs ${g(a.macs)} G; a multiply-add counts 2 FLOPs)`,
    `memory traffic ${(a.bytes / 1e6).toFixed(1)} MB   (every node's inputs and outputs, no cache reuse)`,
    `intensity      ${fmtRate(a.intensity)} FLOPs/byte`,
  ]
  if (a.uncounted.length) {
    lines.push(c.yellow(`not counted (${a.uncounted.length} nodes):`))
    for (const u of a.uncounted.slice(0, 20)) lines.push(c.yellow(`  ${u.op} ${u.node}: ${u.reason}`))
  }
  return `${lines.join('\n')}\n`
}

function listTable(records: ModelRecord[]): string {
  if (records.length === 0) return 'no models registered'
  return table(['name', 'version', 'MB', 'source', 'task', 'framework', 'tags', 'sha256', 'registered'], records.map((r) => [
    r.name, String(r.version), (r.size / 1e6).toFixed(1), r.spec ? `generate:${r.spec.family}` : 'file', r.task ?? '', r.framework ?? '',
    (r.tags ?? []).join(','), r.sha256.slice(0, 12), r.createdAt.slice(0, 19).replace('T', ' '),
  ]))
}

function metadata(flags: ModelFlags): ModelMetadata {
  return {
    ...(flags.task ? { task: flags.task } : {}), ...(flags.framework ? { framework: flags.framework } : {}),
    ...(flags.dataset ? { dataset: flags.dataset } : {}), ...(flags.tag?.length ? { tags: flags.tag } : {}),
    ...(flags.description ? { description: flags.description } : {}),
  }
}

/** `--param layers=8 --param activation=gelu` → { layers: 8, activation: 'gelu' }. */
export function parseParams(pairs: string[]): Record<string, string | number | boolean> {
  return Object.fromEntries(pairs.map((pair) => {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new InferbenchError('INFERBENCH_USAGE', `--param ${pair}: expected key=value`)
    const raw = pair.slice(eq + 1)
    const value = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw
    return [pair.slice(0, eq), value]
  }))
}

function need<T>(value: T | undefined, usage: string): T {
  if (value === undefined || value === '') throw new InferbenchError('INFERBENCH_USAGE', `missing argument; usage: inferbench ${usage}`)
  return value
}
