import { hardwareLabel, type Fingerprint } from '../../core/fingerprint.ts'
import type { JobReport, Measurement } from '../../core/report.ts'
import type { Scalar } from '../../core/types.ts'

/** One stored configuration as the leaderboard shows it (terminal, --json and the HTML report). */
export interface LeaderboardEntry {
  id: string
  suite: string
  name: string
  params: Record<string, Scalar>
  hardware: string
  workload: string | undefined
  p50: number
  p99: number
  samplesPerSec: number
  energyPerSampleJ: number | undefined
  usdPerMillionSamples: number | undefined
  /** 'met', 'missed p99, ...', or '-' without an SLO. */
  slo: string
  /** 'ok', 'unstable' or 'invalid'. */
  measurement: string
  runs: number
}

export function leaderboardEntry(job: JobReport & Measurement, fingerprint: Fingerprint, runs: number): LeaderboardEntry {
  return {
    id: job.id, suite: job.suite, name: job.name, params: job.params, hardware: hardwareLabel(fingerprint), workload: job.settings?.workload.label,
    p50: job.latency.p50, p99: job.latency.p99, samplesPerSec: job.throughput.samplesPerSec, energyPerSampleJ: job.cost?.energy?.perSampleJ,
    usdPerMillionSamples: costPerMillionSamples(job), slo: sloStatus(job),
    measurement: job.validity?.valid === false ? 'invalid' : job.stability?.stable === false ? 'unstable' : 'ok', runs,
  }
}

export function costPerMillionSamples(job: Measurement): number | undefined {
  return job.cost?.cloud ? job.cost.cloud.perMillionRequestsUsd / job.batch : undefined
}

export function sloStatus(job: JobReport): string {
  if (!job.slo.length) return '-'
  return job.slo.every((v) => v.pass) ? 'met' : `missed ${job.slo.filter((v) => !v.pass).map((v) => v.metric).join(', ')}`
}
