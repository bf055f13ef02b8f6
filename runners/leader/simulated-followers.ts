import type { JobReport } from '../../core/report.ts'
import { leaderClient } from './service.ts'

export interface SimulationResult {
  followers: number
  jobs: number
  /** Claims that returned a job, per second of the whole run. */
  assignmentsPerSec: number
  /** Round trip of one heartbeat under the load, ms. */
  heartbeatP50Ms: number
  heartbeatP99Ms: number
  claimP50Ms: number
  reportsStored: number
  reportsRefused: number
  seconds: number
}

/**
 * Drives a leader with `followers` simulated followers over real gRPC: each registers, heartbeats
 * every `heartbeatMs`, claims, and reports a tiny passed result at once, until `jobs` results are
 * stored. What it measures is the leader's own cost: assignments per second and heartbeat latency.
 */
export async function simulateFollowers(address: string, options: { followers: number; jobs: number; heartbeatMs: number; token?: string; timeoutMs?: number }): Promise<SimulationResult> {
  const clients = Array.from({ length: options.followers }, () => leaderClient(address, options.token, ''))
  const heartbeats: number[] = []
  const claims: number[] = []
  let stored = 0
  let refused = 0
  const started = performance.now()
  const deadline = started + (options.timeoutMs ?? 60_000)
  const ids = await Promise.all(clients.map((c, i) => c.call<{ followerId: string }>('Register', { name: `sim${i}`, fingerprintJson: '{}' }).then((r) => r.followerId)))
  let running = true
  const beats = clients.map((c, i) => setInterval(() => {
    const t0 = performance.now()
    c.call('Heartbeat', { followerId: ids[i], queuedSeconds: 0, runningJob: '' }).then(() => heartbeats.push(performance.now() - t0), () => {})
  }, options.heartbeatMs))
  try {
    await Promise.all(clients.map(async (c, i) => {
      while (running && stored < options.jobs && performance.now() < deadline) {
        const t0 = performance.now()
        const claim = await c.call<{ hasJob: boolean; taskId: string; jobId: string; attempt: number }>('Claim', { followerId: ids[i] })
        claims.push(performance.now() - t0)
        if (!claim.hasJob) {
          await new Promise((r) => setTimeout(r, 20))
          continue
        }
        const report: JobReport = {
          id: claim.jobId, suite: 'sim', name: claim.jobId, file: 'sim', kind: 'serving', params: {}, estimateMs: 1, slo: [], status: 'passed',
          latency: { min: 1, p50: 1, p90: 1, p95: 1, p99: 1, p999: 1, max: 1, mean: 1, stdev: 0 }, throughput: { requestsPerSec: 1, samplesPerSec: 1 },
          requests: { ok: 1, errors: 0, late: 0, overflow: 0 }, batch: 1, durationMs: 1,
          stability: { stable: true, reason: '', windows: [] }, validity: { valid: true, problems: [], warnings: [] },
        } as JobReport
        const reply = await c.call<{ stored: boolean }>('Report', { followerId: ids[i], taskId: claim.taskId, jobId: claim.jobId, attempt: claim.attempt, reportJson: JSON.stringify(report), fingerprintJson: '{}' })
        if (reply.stored) stored++
        else refused++
      }
    }))
  } finally {
    running = false
    for (const b of beats) clearInterval(b)
    for (const c of clients) c.close()
  }
  const seconds = (performance.now() - started) / 1000
  const pct = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN
  return {
    followers: options.followers, jobs: options.jobs, assignmentsPerSec: stored / seconds, seconds,
    heartbeatP50Ms: pct(heartbeats, 0.5), heartbeatP99Ms: pct(heartbeats, 0.99), claimP50Ms: pct(claims, 0.5),
    reportsStored: stored, reportsRefused: refused,
  }
}
