import { describe, it } from 'vitest'
import { createRegistry } from 'inferbench/plugin'
import { backendConformance } from 'inferbench/plugin/testing'
import { echoPlugin } from '../index.js'

const factory = createRegistry([echoPlugin()]).backend('echo')
const job = (params = {}) => ({ jobId: 'echo', batch: 1, params, cacheDir: '.' })

describe('the echo backend passes the inferbench conformance kit', () => {
  for (const check of backendConformance({ factory, context: job({ delayMs: 2 }), failing: job({ refuse: 1 }) })) {
    it(check.name, check.run, 20_000)
  }
})
