import { defineConfig } from 'inferbench'

export default defineConfig({
  // `npx inferbench` runs only the quick default suite; heavier suites run when named by path,
  // e.g. `npx inferbench bench/self/`.
  include: ['bench/default.bench.ts'],
  axes: { round: 'repetition of the same job (bench/self/ alternates rounds of framework and reference)' },
})
