/// <reference lib="dom" />
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { CLI, runCli, tempProject } from '../helpers/temp-project.ts'

/** Debian's chromium (playwright's own browser download cannot work offline); .ci/run installs it. */
const CHROMIUM = [process.env.INFERBENCH_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => Boolean(p && existsSync(p)))

const project = tempProject({
  'inferbench.config.ts': "export default { perfDb: '.inferbench/perf.db', measurement: { minDuration: 100, minRequests: 10 }, reporters: ['default', 'html'] }\n",
  'bench/mlp.bench.ts': `import { bench, describe, model, workload } from 'inferbench'
describe('mlp', { model: model.generate('fc', { layers: 1, width: [8, 32] }), batch: [1, 4] }, () => {
  bench('one client', { workload: workload.closed({ duration: '150ms' }), warmup: false, probes: ['cpu'], slo: { p99: '50ms' } })
  bench('two clients', { workload: workload.closed({ concurrency: 2, duration: '150ms' }), warmup: false })
})
describe('load', { model: model.generate('fc', { layers: 1, width: 8 }) }, () => {
  bench('clients', { workload: workload.closed({ concurrency: 1, duration: '150ms' }), warmup: false })
  bench('more clients', { workload: workload.closed({ concurrency: 3, duration: '150ms' }), warmup: false })
  bench('peak', { workload: workload.findPeak({ slo: { p90: '20ms' }, low: 200, step: '300ms', maxSteps: 3 }), warmup: false })
})
`,
})
afterAll(() => project.cleanup())
let stdout = ''
beforeAll(async () => {
  const run = await runCli([], project.dir)
  expect(run.stderr).toBe('')
  stdout = run.stdout
}, 120_000)

describe.skipIf(!CHROMIUM)(`HTML report in headless Chromium${CHROMIUM ? '' : ' (skipped: no chromium; apt-get install chromium, or set INFERBENCH_CHROMIUM)'}`, () => {
  let browser: Browser
  let page: Page
  const outside: string[] = []
  const errors: string[] = []

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] })
    page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1400, height: 900 } })
    // The report must open with no network: every request that is not the file itself is refused and counted.
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file:')) return route.continue()
      outside.push(route.request().url())
      return route.abort()
    })
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()) })
    page.on('pageerror', (e) => errors.push(e.message))
    await page.goto(`file://${join(project.dir, 'inferbench-report/index.html')}`)
    await page.waitForFunction(() => {
      const state = (window as unknown as { inferbenchCharts?: { rendered: number; failed: string[] } }).inferbenchCharts
      return state && state.rendered + state.failed.length === document.querySelectorAll('div.vega, div.chart-error').length
    }, null, { timeout: 30_000 })
  }, 120_000)
  afterAll(async () => { await browser?.close() })

  it('draws every chart the suites support, with no network and no script error', async () => {
    expect(stdout).toMatch(/HTML report inferbench-report\/index\.html \(inferbench show-report inferbench-report\)/)
    const state = await page.evaluate(() => (window as unknown as { inferbenchCharts: { rendered: number; failed: string[] } }).inferbenchCharts)
    expect(state.failed).toEqual([])
    const titles = await page.$$eval('figure.chart figcaption strong', (els) => els.map((e) => e.textContent))
    expect(titles).toEqual(expect.arrayContaining([
      'Latency vs batch size', 'Throughput vs batch size', 'Latency distribution (CDF)', 'Resources during the measurement',
      'Energy, CO2 and cloud cost per request', 'Heat map: batch × model.width', 'Roofline', 'Throughput and tail latency vs load',
      'Peak search (findPeak): p99 at each rate tried',
    ]))
    // Two benches in one suite: the heat map gets a panel per bench, not a collision.
    const heat = page.locator('figure.chart', { hasText: 'Heat map: batch × model.width' })
    await expect(heat.locator('figcaption').textContent()).resolves.toMatch(/one panel per bench/)
    await expect(heat.locator('svg text', { hasText: 'bench=two clients' }).count()).resolves.toBe(1)
    // The goodput column holds the peak search's result.
    const goodput = await page.locator('section.suite', { hasText: 'load' }).locator('table.results tr', { hasText: 'peak' }).locator('td.num').nth(3).textContent()
    expect(goodput).toMatch(/^(≥ )?[\d,]+$|^none$/)
    expect(state.rendered).toBe(titles.length)
    expect(await page.locator('div.vega svg.marks').count()).toBe(titles.length)
    expect(outside).toEqual([])
    expect(errors).toEqual([])
  })

  it('marks the SLO on the CDF, recommends under it, and shows a tooltip on hover', async () => {
    const cdf = page.locator('figure.chart', { hasText: 'Latency distribution (CDF)' })
    await expect(cdf.locator('svg text', { hasText: 'SLO p99 ≤ 50 ms' }).count()).resolves.toBe(1)
    const recommend = page.locator('section.suite', { hasText: 'mlp' }).locator('.recommend').first()
    await expect(recommend.textContent()).resolves.toMatch(/meet p99<=50ms[\s\S]*samples\/s/)
    const point = page.locator('figure.chart', { hasText: 'Throughput vs batch size' }).locator('svg path.mark-symbol, svg g.mark-symbol path').first()
    await point.hover({ force: true })
    await page.waitForSelector('#vg-tooltip-element.visible', { timeout: 5000 })
    await expect(page.locator('#vg-tooltip-element').textContent()).resolves.toMatch(/configuration.*batch.*samples\/s/s)
  })

  it('exports a chart as SVG and PNG from its menu', async () => {
    const figure = page.locator('figure.chart', { hasText: 'Latency vs batch size' })
    await figure.locator('details summary').click()
    const svgLink = figure.locator('.vega-actions a', { hasText: 'SVG' })
    await expect(figure.locator('.vega-actions a', { hasText: 'PNG' }).count()).resolves.toBe(1)
    const [download] = await Promise.all([page.waitForEvent('download'), svgLink.click()])
    const file = await download.path()
    expect(readFileSync(file, 'utf8')).toMatch(/^<svg[\s\S]*latency \(ms\)[\s\S]*<\/svg>$/)
  })

  it('leaderboard: every stored configuration, sorted by a click, filtered by key=value', async () => {
    const rows = page.locator('table.leaderboard tbody tr')
    await expect(rows.count()).resolves.toBe(11)
    await page.locator('table.leaderboard th', { hasText: /^p99$/ }).click()
    const p99 = await page.$$eval('table.leaderboard tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLTableRowElement).cells[8]!.dataset.sort)))
    expect(p99).toEqual([...p99].sort((a, b) => a - b))
    await page.locator('table.leaderboard th', { hasText: /^p99$/ }).click()
    const descending = await page.$$eval('table.leaderboard tbody tr', (trs) => trs.map((tr) => Number((tr as HTMLTableRowElement).cells[8]!.dataset.sort)))
    expect(descending).toEqual([...p99].reverse())
    await page.fill('#leaderboard-filter', 'batch=4')
    const visible = await page.$$eval('table.leaderboard tbody tr:not([hidden])', (trs) => trs.map((tr) => (tr as HTMLTableRowElement).cells[3]!.textContent))
    expect(visible).toEqual(['4', '4', '4', '4'])
    await expect(page.locator('#leaderboard-count').textContent()).resolves.toBe('4 of 11 configurations')
  })
})

describe('inferbench show-report', () => {
  async function serve(args: string[]): Promise<{ url: string; stop: () => void }> {
    const child = spawn(process.execPath, [CLI, 'show-report', ...args], { cwd: project.dir, stdio: ['ignore', 'pipe', 'pipe'] })
    onTestFinished(() => { child.kill() })
    let out = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); const m = /http:\/\/[\d.:]+\//.exec(out); if (m) resolve(m[0]) })
      child.stderr.on('data', (d: Buffer) => { out += d.toString() })
      child.on('exit', () => reject(new Error(`show-report exited: ${out}`)))
    })
    return { url, stop: () => child.kill() }
  }

  it('serves the report folder on localhost, nothing outside it; --run builds one from a stored run; no report is a clear error', async () => {
    const { url } = await serve([])
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const page = await fetch(url)
    expect(page.status).toBe(200)
    expect(await page.text()).toMatch(/<title>inferbench report, /)
    expect((await fetch(`${url}%2e%2e/inferbench.config.ts`)).status).toBe(404)
    const stored = await serve(['again', '--run', 'latest'])
    const rebuilt = await (await fetch(stored.url)).text()
    expect(rebuilt).toMatch(/Heat map: batch × model\.width/)
    expect(existsSync(join(project.dir, 'again/index.html'))).toBe(true)
    const empty = await runCli(['show-report', 'nowhere'], project.dir)
    expect(empty.code).toBe(2)
    expect(empty.stderr).toMatch(/show-report: no report at nowhere\/index\.html: run npx inferbench --reporter html, or .* --run latest/)
  }, 30_000)
})
