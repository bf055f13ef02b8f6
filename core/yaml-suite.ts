import type { PipelineSpec } from './pipeline.ts'
import { readFileSync } from 'node:fs'
import { parseDocument } from 'yaml'
import { z } from 'zod'
import { bench, describe } from './api.ts'
import { InferbenchError } from './errors.ts'
import { model, type ModelRef } from './model-ref.ts'
import { nearestName } from './axis-claims.ts'
import type { BenchOptions, MatrixOptions } from './tree.ts'
import { fromBenchFile, type WorkloadRef } from './workload.ts'

/**
 * `*.bench.yaml`: a suite as data — the paper's "few lines of config". Each key maps onto the
 * TypeScript API (describe + bench), so the plan checks a YAML suite exactly as it checks a
 * `.bench.ts` file (unclaimed parameters, bad workloads, unknown probes), and nothing in it runs as code:
 *
 *   name: ResNet serving                 # the describe; default: the file name
 *   model: { zoo: resnet50 }             # or { file: ./m.onnx }, { generate: fc, params: {...} }, { repo: name@2 }, or a list
 *   matrix: { batch: [1, 8], backend: onnxruntime }
 *   benches:
 *     - name: closed loop
 *       workload: { type: closed, concurrency: 4, duration: 10s }
 *       slo: { p99: 50ms }
 *       intraOpThreads: [1, 2]           # any other key: a matrix parameter, as in bench(name, { ... })
 *
 * A bench may name its own `model`; `<<: *anchor` merges shared settings, anchored under a
 * top-level `x-…` key (ignored otherwise).
 */
const scalar = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' })
const axis = z.union([scalar, z.array(scalar).min(1)], { error: 'expected a string, number or boolean, or a list of them' })
const duration = z.union([z.string(), z.number()])
const dims = z.record(z.string(), z.number().int().positive())
const sweepable = z.record(z.string(), z.union([scalar, z.array(scalar).min(1)]))

const modelSchema = z.union([
  z.strictObject({ file: z.string().min(1), name: z.string().optional(), dims: dims.optional() }),
  z.strictObject({ generate: z.string().min(1), params: sweepable.default({}) }),
  z.strictObject({ zoo: z.string().min(1), params: sweepable.default({}) }),
  z.strictObject({ repo: z.string().min(1), dims: dims.optional() }),
], { error: 'expected { file: path }, { generate: family, params }, { zoo: name }, or { repo: name[@version] }' })

const workloadSchema = z.looseObject({ type: z.string().min(1) }, { error: 'expected { type: closed | constant | poisson | <a plugin\'s>, ...its options }' })

const modelsSchema = z.union([modelSchema, z.array(modelSchema).min(1)], { error: 'expected { file: path }, { generate: family, params }, { zoo: name }, { repo: name[@version] }, or a list of them' })

const BENCH_KEYS = ['name', 'model', 'workload', 'warmup', 'slo', 'probes', 'sharing', 'pipeline', 'skip', 'only', 'id']
const benchSchema = z.object({
  name: z.string().min(1),
  model: modelsSchema.optional(),
  workload: workloadSchema.optional(),
  warmup: z.union([z.literal(false), duration, z.strictObject({ duration: duration.optional(), requests: z.number().int().nonnegative().optional() })],
    { error: "expected false, a duration like 1s, or { duration, requests }" }).optional(),
  slo: z.strictObject({
    p50: duration.optional(), p90: duration.optional(), p95: duration.optional(), p99: duration.optional(), p999: duration.optional(),
    mean: duration.optional(), throughput: z.number().positive().optional(), errorRate: z.union([z.number().min(0).max(1), z.string()]).optional(),
  }).optional(),
  probes: z.array(z.string()).optional(),
  sharing: z.strictObject({ instances: z.number().int().positive(), mps: z.boolean().optional() }).optional(),
  // Checked in full at plan time (data set, processor names and options), as in a .bench.ts.
  pipeline: z.looseObject({ data: z.string() }, { error: "expected { data: images, pre: { type: image, options: {...} }, post: { type: topK } }" }).optional(),
  skip: z.boolean().optional(),
  only: z.boolean().optional(),
  id: z.string().optional(),
}).catchall(axis).superRefine((bench, ctx) => {
  // Any other key is a matrix parameter; one a letter or two from a bench key is a typo of it.
  for (const key of Object.keys(bench)) {
    if (BENCH_KEYS.includes(key)) continue
    const near = nearestName(key, BENCH_KEYS.map((name) => ({ name })))
    if (near && near.name !== key) ctx.addIssue({ code: 'custom', path: [key], message: `did you mean ${near.name}? (any other key is a matrix parameter)` })
  }
})

export const yamlSuiteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  model: modelsSchema.optional(),
  matrix: z.record(z.string(), axis).default({}),
  benches: z.array(benchSchema).min(1, 'expected at least one bench'),
})

export type YamlSuite = z.output<typeof yamlSuiteSchema>

/** Reads, checks and registers a YAML suite while its file is being collected. */
export function collectYamlSuite(file: string, displayName: string, text = readFileSync(file, 'utf8')): void {
  const suite = parseYamlSuite(text, file)
  const models = suite.model === undefined ? undefined : (Array.isArray(suite.model) ? suite.model : [suite.model]).map(modelRef)
  const options: MatrixOptions = { ...suite.matrix, ...(models ? { model: models.length === 1 ? models[0]! : models } : {}) }
  describe(suite.name ?? displayName, options, () => {
    for (const b of suite.benches) {
      const { name, model: benchModel, workload, warmup, slo, probes, sharing, pipeline, skip, only, id, ...axes } = b
      const ownModels = benchModel === undefined ? undefined : (Array.isArray(benchModel) ? benchModel : [benchModel]).map(modelRef)
      const benchOptions: BenchOptions = {
        ...(axes as MatrixOptions),
        ...(ownModels ? { model: ownModels.length === 1 ? ownModels[0]! : ownModels } : {}),
        ...(workload ? { workload: workloadRef(workload) } : {}),
        ...(warmup !== undefined ? { warmup } : {}),
        ...(slo ? { slo } : {}),
        ...(probes ? { probes } : {}),
        ...(sharing ? { sharing } : {}),
        ...(pipeline ? { pipeline: pipeline as unknown as PipelineSpec } : {}),
        ...(id !== undefined ? { id } : {}),
      }
      ;(skip ? bench.skip : only ? bench.only : bench)(name, benchOptions)
    }
  })
}

export function parseYamlSuite(text: string, file: string): YamlSuite {
  // merge: YAML merge keys (<<: *base), the usual way to share settings between benches.
  const doc = parseDocument(text, { prettyErrors: true, merge: true })
  if (doc.errors.length) {
    const e = doc.errors[0]!
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${file}:${e.linePos?.[0]?.line ?? '?'}: not valid YAML: ${e.message.split('\n')[0]!.replace(/:$/, '')}`)
  }
  // Top-level x-… keys are for YAML anchors (x-common: &common { warmup: 1s }), as in Compose files.
  const raw = doc.toJS() as unknown
  const data = raw !== null && typeof raw === 'object' && !Array.isArray(raw)
    ? Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith('x-'))) : raw
  const result = yamlSuiteSchema.safeParse(data)
  if (!result.success) {
    const lines = result.error.issues.slice(0, 5).map((issue) => {
      const path = issue.path.map(String).join('.')
      const at = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])] as Array<string | number>
      const line = lineOf(doc, at, text)
      const where = `  ${file}${line ? `:${line}` : ''}`
      if (issue.code === 'unrecognized_keys') return `${where}: ${issue.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ')}: unknown key; expected ${path ? 'the keys of that section' : 'name, model, matrix, benches'}`
      return `${where}: ${path || '(top level)'}: ${issue.message.replace(/^Invalid input: /, '')}`
    })
    throw new InferbenchError('INFERBENCH_BENCH_INVALID', `${file} is not a valid bench suite:\n${lines.join('\n')}`)
  }
  return result.data
}

function modelRef(m: z.output<typeof modelSchema>): ModelRef {
  if ('file' in m) return model.file(m.file, { ...(m.name ? { name: m.name } : {}), ...(m.dims ? { dims: m.dims } : {}) })
  if ('generate' in m) return model.generate(m.generate, m.params)
  if ('zoo' in m) return model.zoo(m.zoo, m.params)
  return model.repo(m.repo, m.dims ? { dims: m.dims } : {})
}

function workloadRef(w: z.output<typeof workloadSchema>): WorkloadRef {
  const { type, ...options } = w
  // A trace's file, like a model file, is taken from the suite's folder.
  return { type, options: type === 'trace' && typeof options.file === 'string' ? { ...options, file: fromBenchFile(options.file) } : options }
}

/** The line a path points at in the YAML, for error messages. */
function lineOf(doc: ReturnType<typeof parseDocument>, path: Array<string | number>, text: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined
    if (node?.range) return lineAt(text, node.range[0])
  }
  return undefined
}

function lineAt(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++
  return line
}
