import { defineConfig } from 'inferbench'

// bench/pipeline.bench.ts on its own: ResNet-50 at batch 32 answers a handful of requests per
// 15 s job on 2 cores, so a measurement of 5 answers counts (percentiles past p50 rest on few
// answers; the report says so). Everything else as the root config.
export default defineConfig({
  // The repository's root, so the PerfDB, caches and report are the same as for the other suites.
  root: '..',
  include: ['bench/pipeline.bench.ts'],
  reporters: ['default', 'html'],
  measurement: { minRequests: 5, minDuration: '5s' },
})
