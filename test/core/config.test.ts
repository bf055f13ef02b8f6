import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, parseConfig } from '../../core/config.ts'
import { tempProject } from '../helpers/temp-project.ts'

const cleanups: Array<() => void> = []
afterEach(() => { while (cleanups.length) cleanups.pop()!() })

function project(files: Record<string, string>) {
  const p = tempProject(files)
  cleanups.push(p.cleanup)
  return p.dir
}

describe('config', () => {
  it('fills defaults when there is no config file', async () => {
    const dir = project({})
    const config = await loadConfig({ cwd: dir })
    expect(config.configFile).toBeUndefined()
    expect(config.include).toEqual(['**/*.bench.ts', '**/*.bench.yaml', '**/*.bench.yml'])
    expect(config.measurement.windows).toBe(5)
    expect(config.measurement.minDuration).toBe(1000)
    expect(config.root).toBe(dir)
  })

  it('loads a TypeScript config and lets CLI overrides win', async () => {
    const dir = project({
      'inferbench.config.ts': `import { defineConfig } from 'inferbench'\nexport default defineConfig({ include: ['x/*.bench.ts'], reporters: ['json'], measurement: { minDuration: '2s' } })\n`,
    })
    const config = await loadConfig({ cwd: dir, overrides: { reporters: ['default'] } })
    expect(config.configFile).toBe(join(dir, 'inferbench.config.ts'))
    expect(config.include).toEqual(['x/*.bench.ts'])
    expect(config.reporters).toEqual(['default'])
    expect(config.measurement.minDuration).toBe(2000)
  })

  it('loads YAML and package.json#inferbench', async () => {
    const yamlDir = project({ 'inferbench.config.yaml': 'bail: 2\ndefaults:\n  batch: 4\n' })
    expect((await loadConfig({ cwd: yamlDir })).bail).toBe(2)
    expect((await loadConfig({ cwd: yamlDir })).defaults.batch).toBe(4)
    const pkgDir = project({ 'package.json': JSON.stringify({ name: 'x', inferbench: { include: ['p/*.bench.ts'] } }) })
    expect((await loadConfig({ cwd: pkgDir })).include).toEqual(['p/*.bench.ts'])
  })

  it('names the file, the field path and the expectation for a wrong type', async () => {
    const dir = project({ 'inferbench.config.yaml': 'measurement:\n  windows: many\n' })
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(/inferbench\.config\.yaml: measurement\.windows: expected number, received string/)
  })

  it('names an unknown key and lists the known ones', () => {
    expect(() => parseConfig({ measurment: {} }, 'my.config.ts')).toThrow(/my\.config\.ts: measurment: unknown option; expected one of root, include/)
    expect(() => parseConfig({ measurement: { windowz: 3 } }, 'c.ts')).toThrow(/c\.ts: measurement\.windowz: unknown option; expected one of windows, stabilityTolerance/)
  })

  it('rejects a bad duration string with the field path', () => {
    expect(() => parseConfig({ measurement: { minDuration: '10 parsecs' } }, 'c.ts'))
      .toThrow(/c\.ts: measurement\.minDuration: expected a duration like '500ms', '10s', '2m' or a number of milliseconds, received string "10 parsecs"/)
  })

  it('measurement.idle and cost.cpuWattsPerCore say which forms they take', () => {
    expect(() => parseConfig({ measurement: { idle: 'yes' } }, 'c.ts')).toThrow(/measurement\.idle: expected true, false or \{ maxCpu, maxGpu, window, timeout \}, received string "yes"/)
    expect(() => parseConfig({ measurement: { idle: { maxCPU: 10 } } }, 'c.ts')).toThrow(/measurement\.idle\.maxCPU: unknown option; expected one of maxCpu, maxGpu, window, timeout/)
    expect(() => parseConfig({ measurement: { idle: { window: '5s', timeout: '1s' } } }, 'c.ts')).toThrow(/timeout must be at least one window/)
    expect(parseConfig({ measurement: { idle: true } }, 'c.ts').measurement.idle).toEqual({ maxCpu: 10, maxGpu: 10, window: 1000, timeout: 60_000 })
    expect(() => parseConfig({ cost: { cpuWattsPerCore: { idle: 5, max: 1 } } }, 'c.ts')).toThrow(/cost\.cpuWattsPerCore: max \(watts at full load\) must be at least idle/)
    expect(() => parseConfig({ cost: { cpuWattsPerCore: 3 } }, 'c.ts')).toThrow(/cost\.cpuWattsPerCore: expected \{ idle, max \}: watts per logical core/)
  })

  it('reports a missing explicit config file', async () => {
    const dir = project({})
    await expect(loadConfig({ cwd: dir, configFile: 'nope.config.ts' })).rejects.toMatchObject({ code: 'INFERBENCH_CONFIG_NOT_FOUND' })
  })

  it('does not mutate the object it is given', () => {
    const frozen = Object.freeze({ include: ['a'], measurement: Object.freeze({ windows: 4 }) })
    const parsed = parseConfig(frozen, 'c')
    expect(parsed.measurement.windows).toBe(4)
    expect(parsed.measurement.minRequests).toBe(100)
    expect(frozen).toEqual({ include: ['a'], measurement: { windows: 4 } })
  })
})
