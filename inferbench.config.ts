import { defineConfig } from 'inferbench'

export default defineConfig({
  // `npx inferbench` runs only the quick default suite; heavier suites run when named by path,
  // e.g. `npx inferbench bench/self/`.
  include: ['bench/default.bench.ts'],
  // The console table, and the HTML report with charts (inferbench-report/index.html; inferbench show-report).
  reporters: ['default', 'html'],
  axes: { round: 'repetition of the same job (bench/self/ alternates rounds of framework and reference)' },
})
