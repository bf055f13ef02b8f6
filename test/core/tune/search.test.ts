import { describe, expect, it } from 'vitest'
import { enumerate, searchSpace, type Configuration, type Dimension } from '../../../core/tune/search.ts'

const dims: Dimension[] = [
  { name: 'backend', values: ['onnxruntime', 'server'] },
  { name: 'batch', values: [1, 2, 4, 8, 16, 32] },
  { name: 'instances', values: [1, 2, 4] },
  { name: 'delay', values: ['off', '1ms', '4ms'], appliesTo: (c) => c.backend === 'server' },
]
// A made-up landscape with one peak: server, batch 8, 2 instances, 1ms.
const landscape = (c: Configuration) => 100 * (c.backend === 'server' ? 2 : 1) * (8 - Math.abs(Math.log2(Number(c.batch)) - 3)) * (c.instances === 2 ? 1.5 : 1) * (c.delay === '1ms' ? 1.3 : 1)

describe('tuning search', () => {
  it('enumerates a dimension only where it applies', () => {
    const all = enumerate(dims)
    expect(all).toHaveLength(6 * 3 + 6 * 3 * 3)
    expect(all.filter((c) => c.backend === 'onnxruntime').every((c) => !('delay' in c))).toBe(true)
  })

  it('searches a small space exhaustively and a large one by hill climbing to the peak, in fewer evaluations', async () => {
    const small = await searchSpace(dims.slice(0, 2).map((d) => ({ ...d, values: d.values.slice(0, 2) })), async (c) => landscape({ ...c, instances: 1 }), { bruteForceLimit: 8, minGain: 0.05, budget: 100 })
    expect(small.method).toBe('exhaustive')
    expect(small.explored).toHaveLength(4)
    expect(small.best!.config).toEqual({ backend: 'server', batch: 2 })
    const evaluated: Configuration[] = []
    const large = await searchSpace(dims, async (c) => { evaluated.push(c); return landscape(c) }, { bruteForceLimit: 8, minGain: 0.05, budget: 100 })
    expect(large.method).toBe('hill-climb')
    expect(large.best!.config).toEqual({ backend: 'server', batch: 8, instances: 2, delay: '1ms' })
    expect(evaluated.length).toBeLessThan(enumerate(dims).length / 2)
    // Each configuration measured once.
    expect(new Set(evaluated.map((c) => JSON.stringify(c))).size).toBe(evaluated.length)
  })

  it('stops where no neighbour gains 5%, and within its budget', async () => {
    const flat = await searchSpace(dims, async (c) => 100 + Number(c.batch) * 0.1, { bruteForceLimit: 8, minGain: 0.05, budget: 100 })
    // From batch 1 every neighbour gains under 5%: one round, then stop.
    expect(flat.best!.config.batch).toBe(2)
    expect(flat.explored.length).toBeLessThanOrEqual(4)
    const capped = await searchSpace(dims, async (c) => landscape(c), { bruteForceLimit: 8, minGain: 0.05, budget: 3 })
    expect(capped.explored).toHaveLength(3)
  })
})
