import { runClosedLoop } from '../core/loadgen/closed-loop.ts'
import { startProbes } from './probe-sampler.ts'
import { runOpenLoop } from '../core/loadgen/open-loop.ts'
import { LoadRecorder, type Windowing } from '../core/loadgen/recorder.ts'
import type { ServingJob } from '../core/plan.ts'
import type { Backend, ServerStatistics } from '../core/plugin.ts'
import type { JobProgress, Measurement } from '../core/report.ts'
import { encodeHistogram, summarizeHistogram } from '../core/stats/histogram.ts'
import { assessStability } from '../core/stats/stability.ts'
import { assessValidity } from '../core/stats/validity.ts'
import { judgeScenario } from '../core/stats/mlperf.ts'
import type { JobContext } from './job-context.ts'

export type Phase = JobProgress['phase']

/** Per-answer timings when the backend gave them, else the deltas of the server's own counters. */
function serverTimings(recorder: LoadRecorder, before?: ServerStatistics, after?: ServerStatistics): Pick<Measurement, 'serverTimings'> {
  if (recorder.serverTimedAnswers > 0) {
    return {
      serverTimings: {
        queueMs: recorder.serverQueueUs / recorder.serverTimedAnswers / 1000,
        computeMs: recorder.serverComputeUs / recorder.serverTimedAnswers / 1000,
        answers: recorder.serverTimedAnswers,
        source: 'answers',
      },
    }
  }
  if (!before || !after || after.requests <= before.requests) return {}
  const n = after.requests - before.requests
  return {
    serverTimings: {
      queueMs: (after.queueUs - before.queueUs) / n / 1000, computeMs: (after.computeUs - before.computeUs) / n / 1000,
      answers: n, source: 'statistics',
    },
  }
}

/** Warm-up: a closed loop whose answers are thrown away. */
export async function warmUp(job: ServingJob, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void): Promise<void> {
  if (!job.warmup || (!job.warmup.durationMs && !job.warmup.requests)) return
  const recorder = new LoadRecorder({ byCount: Number.MAX_SAFE_INTEGER }, 1)
  track(recorder, 'warmup')
  await runClosedLoop({
    send: () => backend.infer(),
    // Every instance and batch size the measurement will use, not one instance at concurrency 1.
    concurrency: Math.max(job.workload.kind === 'closed' ? job.workload.concurrency : 1, backend.warmupConcurrency ?? 1),
    ...(job.warmup.durationMs ? { durationMs: job.warmup.durationMs } : {}),
    ...(job.warmup.requests ? { requests: job.warmup.requests } : {}),
    maxDurationMs: ctx.config.measurement.jobTimeout,
    recorder,
    signal: ctx.signal,
  })
}

/** Drives the job's workload against the backend and summarises what it measured. */
export async function measure(
  job: ServingJob, backend: Backend, ctx: JobContext, track: (r: LoadRecorder, phase: Phase) => void,
): Promise<Omit<Measurement, 'coldStartMs' | 'coldStart'>> {
  const m = ctx.config.measurement
  const plan = job.workload
  const windowing: Windowing = plan.durationMs !== undefined
    ? { byTimeMs: plan.durationMs / m.windows }
    : { byCount: Math.ceil((plan.kind === 'closed' ? plan.requests ?? 1 : 1) / m.windows) }
  const recorder = new LoadRecorder(windowing, m.windows)
  track(recorder, 'measure')
  const send = () => backend.infer()
  const statsBefore = backend.statistics ? await backend.statistics() : undefined
  const probes = await startProbes(job.probes ?? m.probes, ctx.registry, {
    pids: [process.pid, ...(backend.pids ?? [])], options: m.probeOptions,
    ...(backend.metricsUrl ? { metricsUrl: backend.metricsUrl } : {}), ...(backend.containers ? { containers: backend.containers } : {}),
  }, m.probeInterval)
  const cpuBefore = process.cpuUsage()
  let open: { scheduled: number; sendDelay: Measurement['sendDelay'] } | undefined
  if (plan.kind === 'closed') {
    await runClosedLoop({
      send, concurrency: plan.concurrency, maxDurationMs: m.jobTimeout, recorder, signal: ctx.signal,
      ...(plan.durationMs !== undefined ? { durationMs: plan.durationMs } : {}),
      ...(plan.requests !== undefined ? { requests: plan.requests } : {}),
    })
  } else {
    recorder.setSchedule(plan.arrivalsMs)
    const result = await runOpenLoop({
      send, arrivalsMs: plan.arrivalsMs, maxOutstanding: plan.maxOutstanding ?? m.maxOutstanding,
      lateThresholdMs: m.lateThreshold, spinMs: m.spin, recorder, signal: ctx.signal, blocksCaller: backend.blocksCaller === true,
    })
    const d = result.sendDelay
    open = {
      scheduled: result.scheduled,
      sendDelay: { mean: d.mean / 1000, p99: d.getValueAtPercentile(99) / 1000, max: d.maxValue / 1000 },
    }
  }

  const cpu = process.cpuUsage(cpuBefore)
  const probed = await probes.stop()
  const statsAfter = statsBefore && backend.statistics ? await backend.statistics() : undefined
  const durationMs = recorder.endMs - recorder.startMs
  const seconds = durationMs / 1000
  const requestsPerSec = seconds > 0 ? recorder.ok / seconds : 0
  const rate = plan.kind === 'open'
    ? { offered: plan.offeredRate, scheduled: (plan.arrivalsMs.length * 1000) / plan.durationMs, achieved: requestsPerSec }
    : undefined
  const stability = assessStability(recorder.windowStats(), m.stabilityTolerance)
  const validity = assessValidity({
    durationMs, ok: recorder.ok, minDurationMs: m.minDuration, minRequests: m.minRequests,
    errors: recorder.errors, ...(job.slo.errorRate !== undefined ? { maxErrorRate: job.slo.errorRate } : {}),
    ...(open && rate ? {
      open: { scheduled: open.scheduled, overflow: recorder.overflow, late: recorder.late, offeredRate: rate.scheduled, achievedRate: rate.achieved },
    } : {}),
  })
  return {
    latency: summarizeHistogram(recorder.histogram),
    throughput: { requestsPerSec, samplesPerSec: requestsPerSec * job.batch },
    requests: {
      ok: recorder.ok, errors: recorder.errors, late: recorder.late, overflow: recorder.overflow,
      ...(open ? { scheduled: open.scheduled } : {}),
    },
    ...(rate ? { rate } : {}),
    ...(open?.sendDelay ? { sendDelay: open.sendDelay } : {}),
    batch: job.batch,
    durationMs,
    processCpu: {
      userMs: cpu.user / 1000, systemMs: cpu.system / 1000,
      perRequestUs: recorder.ok > 0 ? (cpu.user + cpu.system) / recorder.ok : 0,
      cores: durationMs > 0 ? (cpu.user + cpu.system) / 1000 / durationMs : 0,
    },
    ...(Object.keys(probed).length ? { probes: probed } : {}),
    stability,
    validity,
    histogram: encodeHistogram(recorder.histogram),
    ...serverTimings(recorder, statsBefore, statsAfter),
    ...(recorder.clientQueuedAnswers > 0 ? { clientQueue: { meanMs: recorder.clientQueueUs / recorder.ok / 1000, queuedAnswers: recorder.clientQueuedAnswers } } : {}),
    ...stageSummaries(recorder),
    ...(plan.scenario ? { mlperf: judgeScenario(plan.scenario, recorder.histogram, { durationMs, batch: job.batch }) } : {}),
    ...(recorder.firstError !== undefined ? { firstError: recorder.firstError } : {}),
  }
}

function stageSummaries(recorder: LoadRecorder): Pick<Measurement, 'stages' | 'stageSum'> {
  if (!recorder.stages) return {}
  const stages = Object.fromEntries([...recorder.stages].map(([name, h]) => [name, summarizeHistogram(h)]))
  return {
    stages,
    stageSum: { sumOfMeansMs: Object.values(stages).reduce((sum, s) => sum + s.mean, 0), latencyMeanMs: recorder.histogram.mean / 1000 },
  }
}
