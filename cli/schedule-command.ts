import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import c from 'picocolors'
import { EXIT, InferbenchError } from '../core/errors.ts'
import type { TextSink } from '../core/plugin.ts'
import { PAPER_POLICIES, policyByName } from '../core/schedule/policies.ts'
import { PAPER_SETTING, comparePolicies, syntheticStream, type JobStream, type SyntheticSetting } from '../core/schedule/simulate.ts'
import { parseTrace } from '../core/schedule/trace.ts'

export interface SimulateFlags {
  workers?: string
  jobs?: string
  policy?: string
  seed?: string
  trace?: string
  arrivals?: string
  load?: string
  batchSize?: string
  batchInterval?: string
  json?: boolean
}

/**
 * `inferbench schedule simulate`: replays a job stream (synthetic, or --trace jobs.csv) through
 * each policy and prints mean/p50/p95 JCT, makespan and speed-up over rr-fcfs. No flags: the
 * documented setting modelled on the paper's case study (docs/scheduler.md).
 */
export function simulateCommand(flags: SimulateFlags, cwd: string, out: TextSink): number {
  const policies = (flags.policy ?? PAPER_POLICIES.join(',')).split(',').map((p) => p.trim()).filter(Boolean).map(policyByName)
  if (policies.length === 0) throw new InferbenchError('INFERBENCH_USAGE', `--policy: expected policy names such as ${PAPER_POLICIES.join(',')}`)
  const workers = int(flags.workers, '--workers', PAPER_SETTING.workers, 1)
  let stream: JobStream
  let setting: Record<string, unknown>
  const started = performance.now()
  if (flags.trace !== undefined) {
    for (const flag of ['jobs', 'seed', 'arrivals', 'load', 'batchSize', 'batchInterval'] as const) {
      if (flags[flag] !== undefined) throw new InferbenchError('INFERBENCH_USAGE', `--${kebab(flag)} shapes a synthetic stream; --trace replays the file's jobs instead: give one or the other`)
    }
    let text: string
    try {
      text = readFileSync(resolve(cwd, flags.trace), 'utf8')
    } catch (error) {
      throw new InferbenchError('INFERBENCH_USAGE', `--trace: cannot read ${flags.trace}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
    stream = parseTrace(text, flags.trace)
    setting = { trace: flags.trace, workers, jobs: stream.arrival.length }
  } else {
    const arrivals = flags.arrivals ?? PAPER_SETTING.arrivals
    if (arrivals !== 'batch' && arrivals !== 'poisson') throw new InferbenchError('INFERBENCH_USAGE', `--arrivals: expected batch or poisson, received '${arrivals}'`)
    if (arrivals === 'batch' && flags.load !== undefined) throw new InferbenchError('INFERBENCH_USAGE', '--load sets the rate of Poisson arrivals; add --arrivals poisson (batch arrivals use --batch-size and --batch-interval)')
    if (arrivals === 'poisson' && (flags.batchSize !== undefined || flags.batchInterval !== undefined)) throw new InferbenchError('INFERBENCH_USAGE', '--batch-size and --batch-interval shape batch arrivals; with --arrivals poisson the rate is --load')
    const s: SyntheticSetting = {
      ...PAPER_SETTING, workers, arrivals,
      jobs: int(flags.jobs, '--jobs', PAPER_SETTING.jobs, 1),
      seed: int(flags.seed, '--seed', PAPER_SETTING.seed, 0),
      load: num(flags.load, '--load', PAPER_SETTING.load),
      batchSize: int(flags.batchSize, '--batch-size', PAPER_SETTING.batchSize, 1),
      batchInterval: num(flags.batchInterval, '--batch-interval', PAPER_SETTING.batchInterval),
    }
    stream = syntheticStream(s)
    setting = { ...s, ...(arrivals === 'batch' ? { load: undefined } : { batchSize: undefined, batchInterval: undefined }) }
  }
  const results = comparePolicies(stream, workers, policies)
  const seconds = (performance.now() - started) / 1000
  if (flags.json) {
    out.write(`${JSON.stringify({ setting, policies: results, simulatedInSeconds: seconds }, null, 2)}\n`)
    return EXIT.ok
  }
  const describe = Object.entries(setting).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('–') : v}`).join(', ')
  out.write(`\n ${c.bold('schedule simulate')}  ${c.dim(describe)}\n\n`)
  const header = ['policy', 'mean JCT s', 'p50 JCT s', 'p95 JCT s', 'makespan s', 'speed-up']
  const rows = Object.entries(results).map(([name, r]) => [name, fmt(r.meanJct), fmt(r.p50Jct), fmt(r.p95Jct), fmt(r.makespan), `${r.speedup.toFixed(2)}×`])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  out.write(`   ${header.map((h, i) => c.dim(i === 0 ? h.padEnd(widths[i]!) : h.padStart(widths[i]!))).join('  ')}\n`)
  for (const row of rows) out.write(`   ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}\n`)
  out.write(c.dim(`\n speed-up: mean JCT of rr-fcfs over the policy's; ${stream.arrival.length.toLocaleString('en-US')} jobs on ${workers} workers simulated in ${seconds.toFixed(2)} s\n`))
  return EXIT.ok
}

function fmt(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1)
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)
}

function int(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new InferbenchError('INFERBENCH_USAGE', `${flag}: expected an integer ≥ ${min}, received '${value}'`)
  return n
}

function num(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InferbenchError('INFERBENCH_USAGE', `${flag}: expected a number above 0, received '${value}'`)
  return n
}
