import c from 'picocolors'
import { EXIT } from '../core/errors.ts'
import type { Fingerprint } from '../core/fingerprint.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobReport } from '../core/report.ts'
import { latestRunId, loadSide, regex, type StoreFlags } from './store-command.ts'

/**
 * `inferbench show [run|file.json] [--job pattern] [--json]`: where and with what a run happened
 * (machine, OS, versions, git) and every job's settings and model hash, to reproduce a figure.
 * No run given: the latest stored one.
 */
export async function showCommand(ref: string | undefined, flags: StoreFlags, cwd: string, out: TextSink): Promise<number> {
  const side = await loadSide(ref ?? String(await latestRunId(flags, cwd)), flags, cwd)
  const pattern = flags.job === undefined ? undefined : regex(flags.job, '--job')
  const jobs = side.jobs.filter((j) => !pattern || pattern.test(`${j.suite} > ${j.name}`) || pattern.test(j.id))
  if (flags.json) {
    out.write(`${JSON.stringify({ run: side.label, ...(side.runId !== undefined ? { runId: side.runId } : {}), startedAt: side.startedAt, fingerprint: side.fingerprint, jobs: jobs.map(reproducible) }, null, 2)}\n`)
    return EXIT.ok
  }
  out.write(`\n ${c.bold(side.label)}\n\n`)
  for (const [key, value] of fingerprintLines(side.fingerprint)) out.write(`   ${c.dim(key.padEnd(12))} ${value}\n`)
  if (pattern && jobs.length === 0) out.write(`\n no job of this run matches /${flags.job}/\n`)
  for (const job of jobs) {
    const r = reproducible(job)
    out.write(`\n ${c.bold(`${job.suite} > ${job.name}`)}  ${c.dim(`${job.id}, ${job.status}`)}\n`)
    for (const [key, value] of Object.entries(r)) {
      if (key === 'id' || key === 'name' || key === 'suite' || key === 'status') continue
      out.write(`   ${c.dim(key.padEnd(12))} ${typeof value === 'string' ? value : JSON.stringify(value)}\n`)
    }
  }
  return EXIT.ok
}

function fingerprintLines(f: Fingerprint): Array<[string, string]> {
  const libraries = Object.entries(f.libraries).map(([k, v]) => `${k} ${v}`).join(', ')
  return [
    ['host', f.hostname],
    ['cpu', `${f.cpu.model}, ${f.cpu.cores} logical cores${f.cpu.speedMHz ? ` at ${f.cpu.speedMHz} MHz` : ''}`],
    ...(f.memoryBytes ? [['memory', `${(f.memoryBytes / 2 ** 30).toFixed(1)} GiB`] as [string, string]] : []),
    ['gpu', f.gpu ? `${f.gpu.devices.join(', ') || 'NVIDIA'}; driver ${f.gpu.driver}${f.gpu.cuda ? `, CUDA ${f.gpu.cuda}` : ''}` : 'none seen (no nvidia-smi)'],
    ['os', `${f.os.distro ? `${f.os.distro}, ` : ''}${f.os.platform} ${f.os.arch}, kernel ${f.os.release}`],
    ['node', f.node],
    ['inferbench', f.inferbench],
    ['libraries', libraries || '-'],
    ['git', f.git ? `${f.git.commit}${f.git.dirty ? ' (uncommitted changes)' : ''}` : 'not a git checkout'],
  ]
}

/** The fields of a job that say what ran and how, without its figures. */
function reproducible(job: JobReport): Record<string, unknown> {
  const model = job.model
  return {
    id: job.id, suite: job.suite, name: job.name, status: job.status,
    file: job.file, params: job.params,
    ...(model ? { model: `${model.name} (${model.source}) sha256 ${model.sha256}` } : {}),
    ...(job.settings ? {
      workload: job.settings.workload, warmup: job.settings.warmup, probes: job.settings.probes,
      ...(job.settings.sharing ? { sharing: job.settings.sharing } : {}), measurement: job.settings.measurement,
    } : {}),
    ...(job.status === 'errored' ? { error: `${job.error.code ?? ''} ${job.error.message}`.trim() } : {}),
    ...(job.backendInfo ? { backend: job.backendInfo } : {}),
  }
}
