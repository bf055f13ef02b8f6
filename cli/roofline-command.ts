import { existsSync } from 'node:fs'
import c from 'picocolors'
import { EXIT } from '../core/errors.ts'
import { collectFingerprint } from '../core/fingerprint.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobReport, Measurement } from '../core/report.ts'
import { PerfDb } from '../core/store/perf-db.ts'
import { measureCeilings } from '../plugins/onnxruntime/ceilings.ts'
import { acceleratorCeilings, ceilingsPath, cpuKey, placeOnRoofline, saveCeilings, type Ceilings } from '../reporters/analysis/roofline.ts'
import { INFERBENCH_VERSION } from '../runners/version.ts'
import { perfDbPath } from './store-command.ts'

export interface RooflineFlags {
  quick?: boolean
  threads?: string
  config?: string
  db?: string
  json?: boolean
}

/**
 * `inferbench roofline`: this machine's ceilings measured through onnxruntime (peak FP32 FLOP/s
 * from a large MatMul, memory bandwidth from a large element-wise op), the datasheet ceilings of
 * its GPU if it has one, and every stored job with a model analysis placed under the CPU roofline.
 */
export async function rooflineCommand(flags: RooflineFlags, cwd: string, out: TextSink): Promise<number> {
  const threads = flags.threads === undefined ? undefined : Number(flags.threads)
  const measured = await measureCeilings({ ...(flags.quick ? { matmulN: 512, streamFloats: 4 * 1024 * 1024, runs: 3 } : {}), ...(threads ? { threads } : {}) })
  const fingerprint = collectFingerprint(cwd, INFERBENCH_VERSION, {})
  const cpu: Ceilings = { name: `${cpuKey(fingerprint.cpu)} (measured, FP32)`, peakFlops: measured.peakFlops, bandwidthBytesPerSec: measured.bandwidthBytesPerSec, source: 'onnxruntime micro-benchmarks' }
  // Kept for the HTML report's roofline; --quick figures are too rough to keep.
  const dbPath = await perfDbPath(flags, cwd)
  if (!flags.quick) saveCeilings(ceilingsPath(cwd, dbPath), cpuKey(fingerprint.cpu), cpu)
  const gpus = (fingerprint.gpu?.devices ?? []).slice(0, 1).flatMap((d) => [acceleratorCeilings(d, 'fp32'), acceleratorCeilings(d, 'fp16')]).filter((x): x is Ceilings => Boolean(x))
  const jobs = storedJobs(dbPath)
  const points = (await jobs).map((j) => ({ job: j, point: placeOnRoofline(j.model!.flops!, j.model!.bytes!, j.throughput.requestsPerSec, cpu) }))
  if (flags.json) {
    out.write(`${JSON.stringify({ ceilings: [cpu, ...gpus], how: measured.how, jobs: points.map((p) => ({ id: p.job.id, suite: p.job.suite, name: p.job.name, params: p.job.params, ...p.point })) }, null, 2)}\n`)
    return EXIT.ok
  }
  out.write(`\n ${c.bold('roofline')}\n\n`)
  for (const k of [cpu, ...gpus]) {
    out.write(`   ${k.name.padEnd(46)} peak ${(k.peakFlops / 1e9).toFixed(1).padStart(8)} GFLOP/s   bandwidth ${(k.bandwidthBytesPerSec / 1e9).toFixed(1).padStart(7)} GB/s   ridge ${(k.peakFlops / k.bandwidthBytesPerSec).toFixed(1)} FLOP/byte  ${c.dim(k.source)}\n`)
  }
  out.write(c.dim(`\n   measured: MatMul ${measured.how.matmulN}×${measured.how.matmulN}, stream of ${(measured.how.streamFloats / 2 ** 20).toFixed(0)}M floats, best of ${measured.how.runs}, threads: ${measured.how.threads}${flags.quick ? '; --quick ceilings move between runs on a busy machine: measure without it for the figures you keep' : ''}\n`))
  if (points.length) {
    out.write(`\n   ${c.dim('stored jobs under the CPU roofline (latest result per configuration)')}\n`)
    for (const { job, point } of points) {
      const params = Object.entries(job.params).map(([k, v]) => `${k}=${v}`).join(', ')
      const above = point.efficiency > 1 ? c.yellow('*') : ' '
      out.write(`   ${point.bound.padEnd(7)} ${point.intensity.toFixed(1).padStart(8)} FLOP/B ${(point.attainedFlops / 1e9).toFixed(2).padStart(9)} GFLOP/s  ${(point.efficiency * 100).toFixed(0).padStart(3)}%${above}of attainable  ${job.name} [${params}]\n`)
    }
    if (points.some((p) => p.point.efficiency > 1)) {
      out.write(c.dim('\n   * above the memory roof: the model\'s weights stay in the CPU caches between requests, so main-memory bandwidth\n     (what the roof measures) does not bound it; intensity counts every byte as if it came from memory\n'))
    }
  }
  return EXIT.ok
}

async function storedJobs(path: string | false): Promise<Array<JobReport & Measurement>> {
  if (path === false || !existsSync(path)) return []
  const db = PerfDb.open(path)
  try {
    return db.configurations().map((x) => x.latest.report as JobReport & Measurement)
      .filter((j) => j.kind === 'serving' && j.model?.flops && j.model.bytes && j.throughput?.requestsPerSec > 0)
  } finally {
    db.close()
  }
}
