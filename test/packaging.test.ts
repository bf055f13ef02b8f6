import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, TEST_CACHE_DIR } from './helpers/temp-project.ts'

/**
 * inferbench as users get it: `npm run pack` builds the compiled package, which is installed
 * (unpacked) next to the example plugin package in examples/echo-plugin. Its dependencies are
 * linked from this checkout's node_modules, so nothing is downloaded. Then: plain Node imports
 * inferbench/plugin (no TypeScript loader anywhere), the example's own vitest suite runs the
 * conformance kit, and the packed CLI runs a bench with the plugin.
 */
let dir = ''
let tarball = ''
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'inferbench-packaging-'))
  tarball = execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/pack.mjs'), '--out', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').at(-1)!
  const project = join(dir, 'project')
  cpSync(join(REPO_ROOT, 'examples/echo-plugin'), project, { recursive: true })
  const installed = join(project, 'node_modules/inferbench')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['xzf', tarball, '-C', installed, '--strip-components=1'])
  // The package's own dependencies, and vitest for the example's tests, from this checkout.
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  for (const name of [...Object.keys(manifest.dependencies), 'vitest']) {
    const link = join(project, 'node_modules', name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(join(REPO_ROOT, 'node_modules', name), link, 'dir')
  }
  // The example plugin itself, as a user project would depend on it.
  symlinkSync(project, join(project, 'node_modules/inferbench-plugin-echo'), 'dir')
}, 180_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the packed package', () => {
  it('is lean: compiled JavaScript, declarations, the CLI and docs; no sources, tests or benches', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''))
    expect(files).toContain('dist/plugins/shared/plugin-kit.js')
    expect(files).toContain('dist/plugins/shared/plugin-kit.d.ts')
    expect(files).toContain('dist/plugins/onnxruntime/session-worker.mjs')
    expect(files).toContain('dist/plugins/shared/v2/kserve_v2.proto')
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
    expect(files.filter((f) => /^(test|bench|fixtures|examples)\//.test(f))).toEqual([])
  })

  it('plain Node imports inferbench/plugin, its helpers and zod, with no TypeScript loader', () => {
    const script = `const p = await import('inferbench/plugin')
const t = await import('inferbench/plugin/testing')
console.log(JSON.stringify([typeof p.definePlugin, typeof p.synthesizeInputs, typeof p.KserveHttpClient, typeof p.z.object, typeof t.backendConformance]))`
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: join(dir, 'project'), encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual(['function', 'function', 'function', 'function', 'function'])
  })

  it('the example plugin package passes the conformance kit in its own vitest run', () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter', 'verbose'], {
      cwd: join(dir, 'project'), encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' },
    })
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/stops starting when its job is aborted/)
    expect(result.stdout).toMatch(/Tests\s+5 passed/)
  }, 120_000)

  it('the packed CLI runs a bench with the plugin\'s backend and reporter', () => {
    const project = join(dir, 'project')
    writeFileSync(join(project, 'inferbench.config.js'), `import { echoPlugin } from 'inferbench-plugin-echo'
export default { plugins: [echoPlugin()], reporters: ['default', 'tally'], cacheDir: ${JSON.stringify(TEST_CACHE_DIR)},
  defaults: { backend: 'echo', warmup: '50ms' }, measurement: { minDuration: '200ms', minRequests: 20 } }
`)
    writeFileSync(join(project, 'echo.bench.ts'), `import { bench, describe, workload } from 'inferbench'
describe('echo', { delayMs: [1, 2] }, () => { bench('closed', { workload: workload.closed({ concurrency: 2, duration: '300ms' }) }) })
`)
    const result = spawnSync(process.execPath, [join(project, 'node_modules/inferbench/bin/inferbench.js')], {
      cwd: project, encoding: 'utf8', env: { ...process.env, CI: '1', NO_COLOR: '1' }, timeout: 60_000,
    })
    expect(result.status, result.stdout + result.stderr).toBe(0)
    expect(result.stdout).toMatch(/tally: closed passed\n.*\n?.*tally: closed passed/s)
    expect(result.stdout).toMatch(/tally: 2 jobs/)
  }, 90_000)
})
