import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import client from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistry, type Probe } from '../../core/plugin.ts'
import { probes } from '../../plugins/probes/index.ts'
import { scrapeSeries, seriesSample } from '../../plugins/probes/prometheus.ts'
import { REPO_ROOT } from '../helpers/temp-project.ts'

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'fixtures/prometheus', name), 'utf8')
const registry = createRegistry([probes()])

describe('prometheus exposition', () => {
  it('keeps the chosen families, one series per label set (labels sorted), counters marked', () => {
    const scrape = scrapeSeries(fixture('triton-cpu-1.txt'), ['nv_inference_*'])
    expect([...scrape.values.keys()]).toEqual([
      'nv_inference_request_success{model="densenet_onnx",version="1"}',
      'nv_inference_request_success{model="cc_fraud_detect_model",version="1"}',
      'nv_inference_request_failure{model="densenet_onnx",reason="OTHER",version="1"}',
      'nv_inference_request_failure{model="densenet_onnx",reason="REJECTED",version="1"}',
      'nv_inference_count{model="densenet_onnx",version="1"}',
      'nv_inference_queue_duration_us{model="densenet_onnx",version="1"}',
      'nv_inference_pending_request_count{model="densenet_onnx",version="1"}',
    ])
    expect(scrape.counters.has('nv_inference_pending_request_count{model="densenet_onnx",version="1"}')).toBe(false)
    expect(scrape.counters.has('nv_inference_count{model="densenet_onnx",version="1"}')).toBe(true)
    expect(scrapeSeries(fixture('triton-cpu-1.txt'), ['nv_cpu_utilization']).values).toEqual(new Map([['nv_cpu_utilization', 0.42]]))
  })

  it('counters become rates per second between scrapes, gauges stay values, a reset counter counts from zero', () => {
    const first = scrapeSeries(fixture('triton-cpu-1.txt'), ['nv_*'])
    const second = scrapeSeries(fixture('triton-cpu-2.txt'), ['nv_*'])
    const sample = seriesSample(first, second, 2)
    expect(sample['nv_inference_request_success_per_s{model="densenet_onnx",version="1"}']).toBe(100)
    expect(sample['nv_inference_count_per_s{model="densenet_onnx",version="1"}']).toBe(400)
    expect(sample['nv_inference_queue_duration_us_per_s{model="densenet_onnx",version="1"}']).toBe(10_000)
    expect(sample['nv_inference_request_success_per_s{model="cc_fraud_detect_model",version="1"}']).toBe(10)
    expect(sample['nv_inference_pending_request_count{model="densenet_onnx",version="1"}']).toBe(2)
    expect(sample.nv_cpu_utilization).toBe(0.61)
    expect(sample['nv_inference_count{model="densenet_onnx",version="1"}']).toBeUndefined()
  })
})

describe('prometheus probe', () => {
  // A real exposition endpoint: prom-client's registry behind node:http, with a counter, a gauge
  // and a histogram the test moves between scrapes.
  const metrics = new client.Registry()
  const served = new client.Counter({ name: 'app_requests_total', help: 'answered', labelNames: ['model'], registers: [metrics] })
  const depth = new client.Gauge({ name: 'app_queue_depth', help: 'waiting', registers: [metrics] })
  const latency = new client.Histogram({ name: 'app_latency_seconds', help: 'latency', buckets: [0.01, 0.1], registers: [metrics] })
  let server: Server
  let url: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== '/metrics') return void res.writeHead(404).end('not here')
      void metrics.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const make = async (options: Record<string, unknown>, metricsUrl?: string) => registry.probe('prometheus')({ pids: [], options, ...(metricsUrl ? { metricsUrl } : {}) })

  it('scrapes the URL, keeps the chosen series, and turns counters into rates', async () => {
    const made = await make({ url: `${url}/metrics`, series: ['app_*'] })
    expect('unavailable' in made, JSON.stringify(made)).toBe(false)
    const probe = made as Probe
    // The labelled counter has no series until its first increment: it appears in the sample, from zero.
    expect(await probe.describe!()).toMatchObject({ url: `${url}/metrics`, matched: 3 })
    const t0 = performance.now()
    served.labels('a').inc(500)
    depth.set(12)
    for (let i = 0; i < 10; i++) latency.observe(0.05)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const sample = await probe.sample()
    const seconds = (performance.now() - t0) / 1000
    expect(sample['app_requests_total_per_s{model="a"}']).toBeGreaterThan((500 / seconds) * 0.8)
    expect(sample['app_requests_total_per_s{model="a"}']).toBeLessThan((500 / seconds) * 1.3)
    expect(sample.app_queue_depth).toBe(12)
    expect(sample.app_latency_seconds_count_per_s! * seconds).toBeCloseTo(10, 0)
  })

  it('uses the backend\'s own metrics URL when none is configured', async () => {
    const made = await make({ series: ['app_queue_depth'] }, `${url}/metrics`)
    expect('unavailable' in made).toBe(false)
  })

  it('cannot run: says why (no URL, refused, not found, no matching series, bad options), never zeros', async () => {
    expect(await make({})).toEqual({ unavailable: expect.stringMatching(/no metrics URL: .*probeOptions\.prometheus\.url/) })
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    expect(await make({ url: `http://127.0.0.1:${port}/metrics` })).toEqual({ unavailable: `cannot scrape http://127.0.0.1:${port}/metrics: ECONNREFUSED` })
    expect(await make({ url: `${url}/other` })).toEqual({ unavailable: expect.stringMatching(/answered 404/) })
    expect(await make({ url: `${url}/metrics`, series: ['nothing_*'] })).toEqual({ unavailable: `${url}/metrics has no series matching nothing_*` })
    expect(await make({ url: 'ftp://x', serie: ['a'] })).toEqual({ unavailable: expect.stringMatching(/probeOptions\.prometheus: .*url.*serie: unknown option/) })
  })
})
