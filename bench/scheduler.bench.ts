import { afterAll, bench, describe } from 'inferbench'
import { PAPER_POLICIES, policyByName } from '../core/schedule/policies.ts'
import { PAPER_SETTING, comparePolicies, simulate, syntheticStream } from '../core/schedule/simulate.ts'

/**
 * The paper's Fig. 15 on the documented default setting (docs/scheduler.md): the speed-up of
 * each policy's mean JCT over RR + FCFS, and the JCT CDF of the three (deciles), printed after the
 * timing benches; then the simulator's own speed at the scale of a large cluster.
 */
const stream = syntheticStream(PAPER_SETTING)
const policies = PAPER_POLICIES.map(policyByName)
const large = syntheticStream({ ...PAPER_SETTING, workers: 1000, jobs: 100_000, arrivals: 'poisson', load: 0.9 })

describe('scheduler (Fig. 15)', () => {
  for (const policy of policies) {
    bench(`simulate ${policy.name}, default setting (${PAPER_SETTING.jobs} jobs, ${PAPER_SETTING.workers} workers)`, () => simulate(stream, PAPER_SETTING.workers, policy), { time: '300ms' })
  }
  bench('simulate qa-sjf, 100,000 jobs on 1,000 workers', () => simulate(large, 1000, policyByName('qa-sjf')), { time: '1s', iterations: 3 })

  afterAll(() => {
    const results = comparePolicies(stream, PAPER_SETTING.workers, policies)
    const lines = ['', ' Fig. 15 (a): speed-up of mean JCT over rr-fcfs']
    for (const [name, r] of Object.entries(results)) lines.push(`   ${name.padEnd(8)} ${r.speedup.toFixed(2)}×   mean JCT ${r.meanJct.toFixed(0)} s`)
    lines.push('', ' Fig. 15 (b): JCT CDF, seconds at each decile')
    lines.push(`   ${'policy'.padEnd(8)} ${[10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((d) => `${d}%`.padStart(7)).join('')}`)
    for (const policy of policies) {
      const sorted = Float64Array.from(simulate(stream, PAPER_SETTING.workers, policy)).sort()
      const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
      lines.push(`   ${policy.name.padEnd(8)} ${[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1].map((q) => at(q).toFixed(0).padStart(7)).join('')}`)
    }
    process.stdout.write(`${lines.join('\n')}\n`)
  })
})
