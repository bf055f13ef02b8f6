import { z } from 'zod'
import { InferbenchError } from './errors.ts'
import type { RunReport } from './report.ts'

/**
 * What a JSON report (docs/json-report.md) must hold to be loaded back: `inferbench import`,
 * `--compare <file>`, a leader merging shards. Fields added later are kept as they are
 * (passthrough); the fields history and compare read are checked.
 */
const num = z.number()
const latencySchema = z.looseObject({ p50: num, p90: num, p95: num, p99: num, max: num, mean: num })
const fingerprintSchema = z.looseObject({
  cpu: z.looseObject({ model: z.string(), cores: num }),
  os: z.looseObject({ platform: z.string(), release: z.string(), arch: z.string() }),
  node: z.string(),
  libraries: z.record(z.string(), z.string()),
  inferbench: z.string(),
  git: z.looseObject({ commit: z.string(), dirty: z.boolean() }).optional(),
  memoryBytes: num.optional(),
  gpu: z.looseObject({ driver: z.string(), cuda: z.string().optional(), devices: z.array(z.string()) }).optional(),
  hostname: z.string(),
})
const base = {
  id: z.string().min(1),
  suite: z.string(),
  name: z.string(),
  file: z.string(),
  kind: z.enum(['serving', 'function']),
  params: z.record(z.string(), z.union([z.string(), num, z.boolean()])),
  model: z.looseObject({ name: z.string(), sha256: z.string(), source: z.string() }).optional(),
  settings: z.looseObject({
    workload: z.looseObject({ label: z.string(), kind: z.enum(['closed', 'open']) }),
    warmup: z.union([z.literal(false), z.looseObject({})]),
    probes: z.array(z.string()),
    measurement: z.record(z.string(), z.unknown()),
  }).optional(),
}
const window = z.looseObject({ requests: num, p50Ms: num.optional(), p50LowMs: num.optional(), p50HighMs: num.optional(), requestsPerSec: num.optional() })
const nonNegative = num.nonnegative()
const probeResult = z.union([
  z.looseObject({ available: z.literal(true), summary: z.record(z.string(), z.looseObject({ mean: z.number().nullable(), max: z.number().nullable() })) }),
  z.looseObject({ available: z.literal(false), reason: z.string() }),
])
const measured = {
  latency: latencySchema,
  throughput: z.looseObject({ requestsPerSec: nonNegative, samplesPerSec: nonNegative }),
  requests: z.looseObject({ ok: nonNegative, errors: nonNegative }),
  stability: z.looseObject({ stable: z.boolean(), windows: z.array(window).optional() }),
  histogram: z.string().optional(),
  durationMs: nonNegative.optional(),
  probes: z.record(z.string(), probeResult).optional(),
  peak: z.looseObject({
    goodputRps: nonNegative.optional(), goodputSamplesPerSec: nonNegative.optional(), boundBy: z.enum(['slo', 'load-generator']).optional(), slo: z.string(),
    steps: z.array(z.looseObject({ rate: nonNegative, achievedRps: nonNegative, p50: num, p99: num, answers: nonNegative, valid: z.boolean(), stable: z.boolean(), meets: z.boolean(), why: z.string().optional() })),
    stoppedBy: z.enum(['precision', 'max-steps', 'high', 'low']),
  }).optional(),
  ramp: z.looseObject({ steps: z.array(z.looseObject({ rate: nonNegative, achievedRps: nonNegative, p50: num, p99: num, answers: nonNegative, valid: z.boolean(), stable: z.boolean(), meets: z.boolean(), why: z.string().optional() })) }).optional(),
  cost: z.looseObject({
    energy: z.looseObject({ perRequestJ: nonNegative, powerW: nonNegative, basis: z.enum(['measured', 'estimated', 'mixed']) }).optional(),
    co2: z.looseObject({ perRequestG: nonNegative, gramsPerKWh: nonNegative }).optional(),
    cloud: z.looseObject({ instance: z.string(), usdPerHour: nonNegative, perMillionRequestsUsd: nonNegative }).optional(),
    missing: z.array(z.string()).optional(),
  }).optional(),
}
const jobSchema = z.discriminatedUnion('status', [
  z.looseObject({ ...base, ...measured, status: z.literal('passed') }),
  z.looseObject({ ...base, ...measured, status: z.literal('failed'), failures: z.array(z.string()) }),
  z.looseObject({ ...base, status: z.literal('errored'), error: z.looseObject({ message: z.string() }) }),
  z.looseObject({ ...base, status: z.literal('skipped'), reason: z.string() }),
])
export const runReportSchema = z.looseObject({
  schemaVersion: z.literal(1).optional(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: num,
  fingerprint: fingerprintSchema,
  jobs: z.array(jobSchema),
  counts: z.looseObject({ passed: num, failed: num, errored: num, skipped: num }),
  stoppedEarly: z.string().optional(),
})

/** Parses JSON report text; every problem names the file and the field's path in it. */
export function parseRunReport(text: string, file: string): RunReport {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new InferbenchError('INFERBENCH_REPORT_INVALID', `${file} is not JSON: ${(error as Error).message}`)
  }
  const result = runReportSchema.safeParse(raw)
  if (!result.success) {
    const lines = result.error.issues.slice(0, 5).map((issue) => `  ${issue.path.map(String).join('.') || '(top level)'}: ${issue.message.replace(/^Invalid input: /, '')}`)
    const more = result.error.issues.length > 5 ? `\n  … and ${result.error.issues.length - 5} more` : ''
    throw new InferbenchError('INFERBENCH_REPORT_INVALID', `${file} is not an inferbench JSON report (--reporter json writes one):\n${lines.join('\n')}${more}`)
  }
  return result.data as unknown as RunReport
}

// The report types (core/report.ts) must satisfy this schema: a field renamed or retyped on one
// side and not the other fails the typecheck, so what reporters write is what import reads.
// (The schema's loose objects carry an index signature the interfaces lack: compared without it.)
type KnownKeys<T> = { [K in keyof T as string extends K ? never : K]: T[K] }
type WithoutIndex<T> = T extends Array<infer E> ? Array<WithoutIndex<E>> : T extends object ? { [K in keyof KnownKeys<T>]: WithoutIndex<KnownKeys<T>[K]> } : T
type Satisfies<T extends U, U> = T
export type ReportSatisfiesSchema = Satisfies<RunReport, WithoutIndex<z.input<typeof runReportSchema>>>
