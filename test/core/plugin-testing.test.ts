import { describe, expect, it } from 'vitest'
import type { Backend, BackendFactory } from '../../core/plugin.ts'
import { backendConformance, type ConformanceSetup } from '../../core/plugin-testing.ts'

/** The kit must fail the backends it exists to catch, each with a message that says what is wrong. */
const job = (params: Record<string, string | number> = {}) => ({ jobId: 'kit', batch: 1, params, cacheDir: '.' })
const ok: Backend = { infer: async () => {}, close: async () => {} }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function failures(factory: BackendFactory, extra: Partial<ConformanceSetup> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const check of backendConformance({ factory, context: job(), failing: job({ broken: 1 }), requests: 4, ...extra })) {
    await check.run().catch((error: Error) => { out[check.name] = error.message })
  }
  return out
}

describe('the conformance kit catches', () => {
  it('a well-behaved backend: nothing', async () => {
    expect(await failures(async (ctx) => { if (ctx.params.broken) throw new Error('cannot serve'); return ok })).toEqual({})
  })
  it('a backend that swallows errors', async () => {
    const f = await failures(async () => ok)
    expect(f['surfaces errors instead of swallowing them']).toMatch(/started and answered: its error was swallowed/)
  })
  it('a factory that ignores abort while starting, even when only its healthy start is slow', async () => {
    const f = await failures(async (ctx) => {
      if (ctx.params.broken) throw new Error('cannot serve')
      await sleep(1500)
      return ok
    })
    expect(f['stops starting when its job is aborted (a job it can serve, and one it cannot)']).toMatch(/still starting 1000 ms after its job was aborted/)
  })
  it('a request that never settles, and a rejection that is not an Error', async () => {
    const hung = await failures(async (ctx) => ({ infer: () => (ctx.params.broken ? new Promise<void>(() => {}) : Promise.resolve()), close: async () => {} }), { inferTimeoutMs: 300 })
    expect(hung['surfaces errors instead of swallowing them']).toMatch(/infer\(\) did not settle within 300 ms/)
    const stringly = await failures(async (ctx) => ({ infer: () => (ctx.params.broken ? Promise.reject('nope') : Promise.resolve()), close: async () => {} }))
    expect(stringly['surfaces errors instead of swallowing them']).toMatch(/rejected with the string "nope" \(not an Error\)/)
  })
  it('a description that is not plain data (a Date, a Map, a function)', async () => {
    const f = await failures(async (ctx) => { if (ctx.params.broken) throw new Error('no'); return { ...ok, info: { when: new Date(), shared: [1], again: [1] } } })
    expect(f['describes itself in plain data (versions, info, warm-up and threading hints)']).toMatch(/info\.when is a Date: info goes into the JSON report/)
  })
  it('a setup without a failing job', () => {
    expect(() => backendConformance({ factory: async () => ok, context: job() } as unknown as ConformanceSetup)).toThrow(/pass `failing`/)
  })
})
