import { describe, expect, it } from 'vitest'
import { constantArrivals } from '../../../core/loadgen/arrivals.ts'
import { runOpenLoop } from '../../../core/loadgen/open-loop.ts'
import { LoadRecorder } from '../../../core/loadgen/recorder.ts'

describe('runOpenLoop with a misbehaving send', () => {
  it('counts a send that throws, or calls back at once, like any other answer, once each, and ends', async () => {
    let calls = 0
    const send = () => {
      calls++
      if (calls % 3 === 0) throw new Error('thrown before any promise')
      // A thenable that calls back synchronously: a re-plan from inside it would start a second pump.
      return { then: (ok: (v: void) => void) => ok(undefined) } as unknown as Promise<void>
    }
    for (const blocksCaller of [false, true]) {
      calls = 0
      const recorder = new LoadRecorder({ byTimeMs: 10_000 }, 1)
      const result = await runOpenLoop({ send, arrivalsMs: constantArrivals(500, 200), maxOutstanding: 10, lateThresholdMs: 2, spinMs: 1, recorder, blocksCaller })
      expect(result.sent).toBe(100)
      expect(calls).toBe(100)
      expect(recorder.errors).toBe(33)
      expect(recorder.ok).toBe(67)
    }
  })
})
