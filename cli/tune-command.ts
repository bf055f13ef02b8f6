import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import c from 'picocolors'
import { stringify } from 'yaml'
import { collectFile } from '../core/collector.ts'
import { loadConfig } from '../core/config.ts'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { hardwareLabel } from '../core/fingerprint.ts'
import { resolveModel } from '../core/model-resolver.ts'
import { planJobs } from '../core/plan.ts'
import { createRegistry, type TextSink } from '../core/plugin.ts'
import type { JobReport, JobStatus, Measurement, RunReport } from '../core/report.ts'
import { PerfDb } from '../core/store/perf-db.ts'
import { enumerate, searchSpace, type Configuration, type Dimension } from '../core/tune/search.ts'
import type { Scalar } from '../core/types.ts'
import { collectYamlSuite } from '../core/yaml-suite.ts'
import { parseSlo, recommend, type Constraint } from '../reporters/analysis/recommend.ts'
import { withBuiltinPlugins } from '../runners/builtin-plugins.ts'
import { runLocal } from '../runners/local.ts'

export interface TuneFlags {
  slo?: string
  backends?: string
  batch?: string
  instances?: string
  batching?: string
  step?: string
  budget?: string
  param?: string[]
  exhaustive?: boolean
  config?: string
  json?: boolean
}

/**
 * `inferbench tune <model> --slo 'p99<50ms'`: finds the configuration with the most goodput
 * (samples/s at the highest Poisson rate meeting the SLO, by workload.findPeak) over backend,
 * batch size, instance count and the server's dynamic-batching delay: every configuration when
 * the space is small, else a hill climb that moves only while a step gains 5% (Triton
 * model_analyzer's rule). Each configuration is stored in the PerfDB as one run, so
 * `inferbench recommend` and the leaderboard see them; the top 3 under the SLO are printed.
 */
export async function tuneCommand(target: string | undefined, flags: TuneFlags, cwd: string, out: TextSink, signal?: AbortSignal): Promise<number> {
  if (!target) throw new InferbenchError('INFERBENCH_USAGE', "tune: give the model: an .onnx file, a generator or zoo name (tune resnet18 --param imageSize=64), or a repository name[@version]")
  if (!flags.slo) throw new InferbenchError('INFERBENCH_USAGE', "tune: give the SLO, e.g. --slo 'p99<50ms'")
  const constraints = parseSlo(flags.slo)
  const latency = constraints.filter((k) => k.metric !== 'throughput')
  if (latency.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `tune: --slo needs a latency limit to search the rate against (e.g. p99<50ms), received '${flags.slo}'`)
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })
  const registry = createRegistry(withBuiltinPlugins(config.plugins))
  const model = modelData(target, flags.param ?? [], cwd, registry.names('generators'))
  const dimensions = space(flags, registry.names('backends'))
  await checkModel(model, target, registry, config)
  const step = flags.step ?? '1s'
  const budget = flags.budget === undefined ? 16 : Number(flags.budget)
  if (!Number.isInteger(budget) || budget < 1) throw new InferbenchError('INFERBENCH_USAGE', `tune: --budget: expected a positive integer, received '${flags.budget}'`)
  const slo = Object.fromEntries(latency.map((k) => [k.metric, k.value]))
  const reports: JobReport[] = []
  const startedAt = new Date()
  let fingerprint: RunReport['fingerprint'] | undefined

  const evaluate = async (cfg: Configuration): Promise<number | undefined> => {
    if (signal?.aborted) return undefined
    const file = join(config.root, 'tune.bench.yaml')
    const bench = { name: 'tune', model, ...backendParams(cfg), workload: { type: 'findPeak', slo, step }, warmup: '500ms' }
    const text = stringify({ name: `tune ${target}`, benches: [bench] })
    const jobs = planJobs([await collectFile(file, async () => collectYamlSuite(file, 'tune', text))], {
      root: config.root, registry, defaults: config.defaults, axes: config.axes, repositoryDir: config.repository,
    })
    const run = await runLocal({ jobs, registry, config, reporters: [], ...(signal ? { signal } : {}) })
    fingerprint ??= run.fingerprint
    const report = run.jobs[0]!
    reports.push(report)
    const goodput = report.status !== 'skipped' && 'peak' in report ? report.peak?.goodputSamplesPerSec : undefined
    const bound = report.status !== 'skipped' && 'peak' in report && report.peak?.boundBy === 'load-generator' ? c.yellow(' (≥: the load generator could not send faster on time)') : ''
    if (!flags.json) out.write(`  ${describe(cfg).padEnd(52)} ${goodput !== undefined ? `goodput ${c.bold(Math.round(goodput).toLocaleString('en-US'))} samples/s${bound}` : c.yellow(report.status === 'errored' ? `errored: ${report.error.message.split('\n')[0]}` : `no rate met ${flags.slo}${lastWhy(report)}`)}\n`)
    return goodput
  }

  if (!flags.json) out.write(`\n ${c.bold('tune')} ${target} under ${flags.slo}: goodput by workload.findPeak (steps of ${step})\n\n`)
  const result = await searchSpace(dimensions, evaluate, { bruteForceLimit: flags.exhaustive ? Number.POSITIVE_INFINITY : 8, minGain: 0.05, budget })
  const run = storeRun(reports, startedAt, fingerprint, config.perfDb)
  const candidates = reports.filter((r): r is JobReport & Measurement => (r.status === 'passed' || r.status === 'failed') && Boolean(r.latency))
    .map((job) => ({ job, fingerprint: fingerprint!, runs: 1, throughputs: [job.throughput.requestsPerSec] }))
  const picked = recommend(candidates, constraints as Constraint[], 'throughput')
  if (flags.json) {
    out.write(`${JSON.stringify({
      slo: flags.slo, method: result.method, runId: run,
      explored: result.explored.map((e) => {
        const peak = reports[result.explored.indexOf(e)]
        const p = peak && peak.status !== 'skipped' && 'peak' in peak ? peak.peak : undefined
        return { config: e.config, goodputSamplesPerSec: e.score, ...(p ? { boundBy: p.boundBy, steps: p.steps } : {}) }
      }),
      best: result.best ? { config: result.best.config, goodputSamplesPerSec: result.best.score } : null,
      recommended: picked.meets.map((r) => ({ params: r.candidate.job.params, samplesPerSec: r.score, confidence: r.confidence, why: r.why })),
    }, null, 2)}\n`)
    return EXIT.ok
  }
  out.write(`\n ${result.method === 'exhaustive' ? 'every configuration' : 'hill climb'}: ${result.explored.length} of ${enumerate(dimensions).length} configurations measured\n`)
  if (!result.best) {
    out.write(` ${c.yellow('!')} no configuration met ${flags.slo} at any rate tried\n`)
    return EXIT.failed
  }
  out.write(` ${c.bold('best')}: ${describe(result.best.config)}, goodput ${Math.round(result.best.score!).toLocaleString('en-US')} samples/s within ${flags.slo} on ${hardwareLabel(fingerprint!)}\n`)
  const best = reports.find((r) => r.status !== 'skipped' && 'peak' in r && r.peak?.goodputSamplesPerSec === result.best!.score) as (JobReport & Measurement) | undefined
  if (best) out.write(c.dim(`   at ${Math.round(best.peak!.goodputRps!).toLocaleString('en-US')} req/s: ${latency.map((k) => `${k.metric} ${formatMs(best.latency[k.metric as 'p50'])}`).join(', ')} (limit ${flags.slo})\n`))
  if (picked.meets.length) {
    out.write(`\n ${c.bold('recommended')} (inferbench recommend ranks these with every stored run):\n`)
    picked.meets.forEach((r, i) => out.write(`  ${i + 1}. ${Object.entries(r.candidate.job.params).filter(([k]) => k !== 'model').map(([k, v]) => `${k}=${v}`).join(', ')}  ${Math.round(r.score).toLocaleString('en-US')} samples/s  ${c.dim(`confidence ${r.confidence}`)}\n`))
  }
  if (run !== undefined) out.write(c.dim(`\n stored as PerfDB run ${run} (inferbench show ${run}; inferbench recommend --slo '${flags.slo}')\n`))
  return EXIT.ok
}

/** The search space: flags, or the defaults; the server's batching delay only where the backend is the server. */
function space(flags: TuneFlags, registered: string[]): Dimension[] {
  const list = (text: string | undefined, fallback: string, flag: string) => (text ?? fallback).split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (flag === '--backends' || flag === '--batching') return s
    const n = Number(s)
    if (!Number.isInteger(n) || n < 1) throw new InferbenchError('INFERBENCH_USAGE', `tune: ${flag}: expected positive integers separated by commas, received '${text}'`)
    return n
  })
  const backends = list(flags.backends, 'onnxruntime,server', '--backends') as string[]
  for (const b of backends) {
    if (!registered.includes(b)) throw new InferbenchError('INFERBENCH_USAGE', `tune: --backends: no backend '${b}'; registered: ${registered.join(', ')}`)
    if (b !== 'onnxruntime' && b !== 'server') throw new InferbenchError('INFERBENCH_USAGE', `tune: --backends: tune runs the model itself, on onnxruntime or server; '${b}' needs its own server's settings`)
  }
  const batching = list(flags.batching, 'off,1ms,4ms', '--batching') as string[]
  return [
    { name: 'backend', values: backends },
    { name: 'batch', values: list(flags.batch, '1,4,16', '--batch') },
    { name: 'instances', values: list(flags.instances, '1,2', '--instances') },
    { name: 'batching', values: batching, appliesTo: (cfg) => cfg.backend === 'server' },
  ]
}

/** Why the search's highest-rate failing step failed, briefly: what a user needs to see first. */
function lastWhy(report: JobReport): string {
  const steps = report.status !== 'skipped' && 'peak' in report ? report.peak?.steps ?? [] : []
  const step = steps.filter((s) => !s.meets).sort((a, b) => a.rate - b.rate)[0]
  return step?.why ? c.dim(` (at ${step.rate}/s: ${step.why.split(';')[0]})`) : ''
}

/** A configuration as the backends' parameters: dynamic batching is the server's maxBatch and maxQueueDelay. */
function backendParams(cfg: Configuration): Record<string, Scalar> {
  const { batching, ...rest } = cfg
  if (cfg.backend !== 'server') return rest
  return batching === 'off' || batching === undefined ? { ...rest, maxBatch: 0 } : { ...rest, maxBatch: Math.max(16, Number(cfg.batch)), maxQueueDelay: String(batching) }
}

function describe(cfg: Configuration): string {
  return Object.entries(cfg).map(([k, v]) => (k === 'backend' ? String(v) : `${k}=${v}`)).join(' ')
}

/** The model as a YAML suite names it: a file, a generator with --param values, or a repository entry. */
function modelData(target: string, params: string[], cwd: string, generators: string[]): Record<string, unknown> {
  const path = resolve(cwd, target)
  if (existsSync(path)) return { file: path }
  const values = Object.fromEntries(params.map((p) => {
    const m = /^([\w.]+)=(.*)$/.exec(p)
    if (!m) throw new InferbenchError('INFERBENCH_USAGE', `tune: --param: expected key=value, received '${p}'`)
    const n = Number(m[2])
    return [m[1]!, m[2] === 'true' ? true : m[2] === 'false' ? false : Number.isFinite(n) && m[2] !== '' ? n : m[2]!]
  }))
  if (generators.includes(target)) return { generate: target, params: values }
  if (/\.onnx$/i.test(target)) throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `tune: no file ${path}`)
  return { repo: target }
}

/** The model is resolved once before the search: a typo costs a second, not every configuration. */
async function checkModel(model: Record<string, unknown>, target: string, registry: ReturnType<typeof createRegistry>, config: Awaited<ReturnType<typeof loadConfig>>): Promise<void> {
  if ('file' in model) return
  if ('generate' in model) {
    registry.generator(String(model.generate)).normalize(model.params as Record<string, unknown>)
    return
  }
  try {
    await resolveModel({ source: 'repo', ref: target }, registry, { cacheDir: config.cacheDir, repositoryDir: config.repository })
  } catch (error) {
    throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `tune: '${target}' is no file, no generator (${registry.names('generators').join(', ')}) and no model in the repository (${(error as Error).message.split('\n')[0]})`)
  }
}

/** All the tuning's jobs as one PerfDB run (source 'tune'); undefined when the config stores nothing. */
function storeRun(jobs: JobReport[], startedAt: Date, fingerprint: RunReport['fingerprint'] | undefined, perfDb: string | false): number | undefined {
  if (perfDb === false || !fingerprint || jobs.length === 0) return undefined
  const counts: Record<JobStatus, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const j of jobs) counts[j.status]++
  const finishedAt = new Date()
  const db = PerfDb.open(perfDb)
  try {
    return db.importRun({ startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), durationMs: finishedAt.getTime() - startedAt.getTime(), fingerprint, jobs, counts }, 'tune')
  } finally {
    db.close()
  }
}
