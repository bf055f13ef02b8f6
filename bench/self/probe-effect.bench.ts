import { bench, describe, model, workload } from 'inferbench'

/**
 * Does sampling disturb what it measures? The same open-loop job — in-process onnxruntime, the
 * issue-13 MLP (4×1024, ~0.45 ms), Poisson 400 req/s — with no probes and with the default ones
 * (cpu + memory every 250 ms, sampled on the load generator's thread). Rounds alternate the order
 * (off, on | on, off | ...) so drift favours neither; the figures are medians over rounds of
 * p50(on) / p50(off) and p99(on) / p99(off). Target: within the run-to-run noise (≤ 1.05 at p50).
 * One sample's own cost is in probe-overhead.bench.ts.
 */
const ROUNDS = 4
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

describe('probes on vs off, open loop 400 req/s', { model: model.generate('fc', { layers: 4, width: 1024, inputDim: 256 }), batch: 1 }, () => {
  const measure = { workload: workload.poisson({ rate: 400, duration: '4s' }), warmup: '1s' }
  const seen: Record<'on' | 'off', { p50: number; p99: number } | undefined> = { on: undefined, off: undefined }
  const p50: number[] = []
  const p99: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const sides = round % 2 ? (['off', 'on'] as const) : (['on', 'off'] as const)
    for (const side of sides) {
      bench(`round ${round}: probes ${side}`, { ...measure, round, probes: side === 'on' ? ['cpu', 'memory'] : [] }, (r) => {
        seen[side] = { p50: r.latency.p50, p99: r.latency.p99 }
        if (side !== sides[1]) return undefined
        p50.push(seen.on!.p50 / seen.off!.p50)
        p99.push(seen.on!.p99 / seen.off!.p99)
        const figures: Record<string, number> = { p50OnOverOff: p50.at(-1)!, p99OnOverOff: p99.at(-1)! }
        if (p50.length === ROUNDS) Object.assign(figures, { medianP50Ratio: median(p50), medianP99Ratio: median(p99) })
        return figures
      })
    }
  }
})
