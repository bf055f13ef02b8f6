import c from 'picocolors'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { hardwareLabel } from '../core/fingerprint.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobReport, Measurement } from '../core/report.ts'
import { openDb } from './store-command.ts'
import { parseSlo, recommend, type Candidate, type Objective, type Ranked } from '../reporters/analysis/recommend.ts'

export interface RecommendFlags {
  slo?: string
  objective?: string
  model?: string
  backend?: string
  config?: string
  db?: string
  json?: boolean
}

/**
 * `inferbench recommend --slo 'p99<50ms' [--objective throughput|cost|energy] [--model m]`: the
 * top 3 stored configurations meeting the SLO, best by the objective, with the figures that
 * decided it and how far to trust them; none meets it → the closest, and says so.
 */
export async function recommendCommand(flags: RecommendFlags, cwd: string, out: TextSink): Promise<number> {
  if (!flags.slo) throw new InferbenchError('INFERBENCH_USAGE', "recommend: give the SLO to meet, e.g. --slo 'p99<50ms' or --slo 'p95<=20ms,throughput>=500'")
  const constraints = parseSlo(flags.slo)
  const objective = (flags.objective ?? 'throughput') as Objective
  if (!['throughput', 'cost', 'energy'].includes(objective)) throw new InferbenchError('INFERBENCH_USAGE', `--objective: expected throughput, cost or energy, received '${flags.objective}'`)
  const { db } = await openDb(flags, cwd, true)
  let candidates: Candidate[]
  try {
    candidates = db.configurations()
      .filter((c) => c.latest.report.kind === 'serving')
      .map((c) => ({ job: c.latest.report as JobReport & Measurement, fingerprint: c.fingerprint, runs: c.runs, throughputs: c.throughputs }))
      .filter((c) => (!flags.model || String(c.job.params.model ?? '').includes(flags.model)) && (!flags.backend || c.job.params.backend === flags.backend))
  } finally {
    db.close()
  }
  const result = recommend(candidates, constraints, objective)
  if (flags.json) {
    const plain = (r: Ranked) => ({ id: r.candidate.job.id, suite: r.candidate.job.suite, name: r.candidate.job.name, params: r.candidate.job.params, hardware: hardwareLabel(r.candidate.fingerprint), score: r.score, worstRatio: r.worstRatio, confidence: r.confidence, why: r.why })
    out.write(`${JSON.stringify({ slo: flags.slo, objective, considered: candidates.length, meets: result.meets.map(plain), closest: result.closest.map(plain), unjudged: result.unjudged, invalid: result.invalid, withoutObjective: result.withoutObjective }, null, 2)}\n`)
    return EXIT.ok
  }
  const unit = objective === 'throughput' ? 'samples/s' : objective === 'cost' ? 'USD per million samples' : 'J per sample'
  out.write(`\n ${c.bold('recommend')}  ${flags.slo}, best ${objective} (${unit}); ${candidates.length} stored configuration${candidates.length === 1 ? '' : 's'}${flags.model ? ` of model ~${flags.model}` : ''}\n\n`)
  const list = result.meets.length ? result.meets : result.closest
  if (!result.meets.length && result.withoutObjective > 0) {
    out.write(` ${c.yellow('!')} ${result.withoutObjective} stored configuration${result.withoutObjective === 1 ? ' meets' : 's meet'} ${flags.slo}, but none has ${objective === 'energy' ? 'an' : 'a'} ${objective} figure to rank by (${objective === 'cost' ? 'set cost.instance and run again' : "add the cpu or rapl probe"}); rank them by throughput instead with --objective throughput\n`)
    return EXIT.ok
  }
  if (!result.meets.length) out.write(` ${c.yellow('!')} no stored configuration meets ${flags.slo}${list.length ? '; the closest:' : ''}\n\n`)
  list.forEach((r, i) => {
    const p = Object.entries(r.candidate.job.params).map(([k, v]) => `${k}=${v}`).join(', ')
    const score = objective === 'throughput' ? `${Math.round(r.score).toLocaleString('en-US')} samples/s` : objective === 'cost' ? `$${r.score.toPrecision(3)} per 1M samples` : `${r.score.toPrecision(3)} J/sample`
    out.write(` ${i + 1}. ${c.bold(p)}  ${result.meets.length ? score : c.yellow(`${((r.worstRatio - 1) * 100).toFixed(0)}% beyond the SLO`)}  ${c.dim(`confidence ${r.confidence}`)}\n`)
    out.write(`    ${c.dim(`${r.candidate.job.suite} > ${r.candidate.job.name} on ${hardwareLabel(r.candidate.fingerprint)}`)}\n    ${c.dim(r.why)}\n`)
  })
  const notes = [
    ...(result.unjudged ? [`${result.unjudged} left out: too few answers to judge the percentile (run them longer)`] : []),
    ...(result.invalid ? [`${result.invalid} left out: their latest measurement was invalid`] : []),
    ...(result.withoutObjective ? [`${result.withoutObjective} meeting the SLO have no ${objective} figure (${objective === 'cost' ? 'set cost.instance' : 'add the cpu or rapl probe'})`] : []),
  ]
  if (notes.length) out.write(`\n ${c.dim(notes.join('; '))}\n`)
  if (candidates.length === 0) out.write(` no stored serving configuration${flags.model || flags.backend ? ' matches the filters' : ''}\n`)
  return EXIT.ok
}
