import { decodeHistogram } from '../../core/stats/histogram.ts'
import type { Ceilings } from '../analysis/roofline.ts'
import { placeOnRoofline } from '../analysis/roofline.ts'
import { axesOf, axisValue, loadOf, seriesLabel, sweptAxes, type MeasuredJob } from './job-rows.ts'

/** A vega-lite specification (https://vega.github.io/vega-lite/docs/spec.html), as plain JSON. */
export type VegaLiteSpec = Record<string, unknown>

export interface Chart {
  id: string
  title: string
  /** One line under the chart: what it shows and how to read it. */
  note: string
  spec: VegaLiteSpec
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'
/** Legends name whole configurations: let them be long. */
const CONFIG = { legend: { labelLimit: 320 }, axis: { labelLimit: 260 }, range: { category: { scheme: 'tableau20' } } }
const WIDTH = 440
const HEIGHT = 260
const tooltip = (fields: Array<[string, string, ('quantitative' | 'nominal' | 'ordinal')?, string?]>) =>
  fields.map(([field, title, type, format]) => ({ field, title, type: type ?? 'quantitative', ...(format ? { format } : {}) }))
/** Clicking a legend entry highlights that line; the others fade. */
const legendPick = { name: 'pick', select: { type: 'point', fields: ['series'] }, bind: 'legend' }
const fadeUnpicked = { condition: { param: 'pick', value: 1 }, value: 0.15 }

/** Every chart the suite's jobs can support; a chart whose axis was not swept is left out. */
export function suiteCharts(suiteId: string, jobs: readonly MeasuredJob[], ceilings: Ceilings | undefined): Chart[] {
  const swept = sweptAxes(jobs)
  const charts = [
    ...byBatch(jobs, swept),
    latencyCdf(jobs, swept),
    byLoad(jobs, swept),
    peakSearch(jobs, swept),
    stages(jobs, swept),
    resources(jobs, swept),
    cost(jobs, swept),
    ...heatMaps(jobs, swept),
    roofline(jobs, swept, ceilings),
  ].filter((c): c is Omit<Chart, 'id'> => c !== undefined)
  return charts.map((c, i) => ({ ...c, id: `${suiteId}-chart-${i}` }))
}

function byBatch(jobs: readonly MeasuredJob[], swept: string[]): Array<Omit<Chart, 'id'>> {
  if (!swept.includes('batch')) return []
  const rows = jobs.map((j) => ({ series: seriesLabel(j, ['batch'], swept), batch: j.batch, p50: j.latency.p50, p99: j.latency.p99, samplesPerSec: j.throughput.samplesPerSec, requestsPerSec: j.throughput.requestsPerSec }))
  const x = { field: 'batch', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [...new Set(rows.map((r) => r.batch))] } }
  return [{
    title: 'Latency vs batch size',
    note: 'p50 (solid) and p99 (dashed) per configuration; click a legend entry to highlight it.',
    spec: {
      $schema: SCHEMA, config: CONFIG, width: WIDTH, height: HEIGHT, data: { values: rows }, params: [legendPick],
      transform: [{ fold: ['p50', 'p99'], as: ['percentile', 'ms'] }],
      mark: { type: 'line', point: true },
      encoding: {
        x, y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' }, color: { field: 'series', type: 'nominal', title: 'configuration', sort: null },
        strokeDash: { field: 'percentile', type: 'nominal' }, opacity: fadeUnpicked,
        tooltip: tooltip([['series', 'configuration', 'nominal'], ['batch', 'batch'], ['percentile', 'percentile', 'nominal'], ['ms', 'ms', 'quantitative', '.3f']]),
      },
    },
  }, {
    title: 'Throughput vs batch size',
    note: 'Samples per second (requests × batch) per configuration.',
    spec: {
      $schema: SCHEMA, config: CONFIG, width: WIDTH, height: HEIGHT, data: { values: rows }, params: [legendPick],
      mark: { type: 'line', point: true },
      encoding: {
        x, y: { field: 'samplesPerSec', type: 'quantitative', title: 'samples/s' }, color: { field: 'series', type: 'nominal', title: 'configuration', sort: null }, opacity: fadeUnpicked,
        tooltip: tooltip([['series', 'configuration', 'nominal'], ['batch', 'batch'], ['samplesPerSec', 'samples/s', 'quantitative', ',.0f'], ['requestsPerSec', 'requests/s', 'quantitative', ',.1f']]),
      },
    },
  }]
}

/** Quantiles at which a CDF is drawn: even steps through the body, then the tail's nines. */
const CDF_QUANTILES = [...Array.from({ length: 49 }, (_, i) => (i + 1) / 50), 0.99, 0.995, 0.999, 0.9995, 0.9999]

function latencyCdf(jobs: readonly MeasuredJob[], swept: string[]): Omit<Chart, 'id'> | undefined {
  const withHistogram = jobs.filter((j) => j.histogram).slice(0, 16)
  if (withHistogram.length === 0) return undefined
  const rows = withHistogram.flatMap((j) => {
    const h = decodeHistogram(j.histogram!)
    const series = seriesLabel(j, [], swept)
    const points = [{ series, ms: h.minNonZeroValue / 1000, q: 0 }, ...CDF_QUANTILES.map((q) => ({ series, ms: h.getValueAtPercentile(q * 100) / 1000, q })), { series, ms: h.maxValue / 1000, q: 1 }]
    return points
  })
  // Each distinct latency SLO, drawn where it sits: a vertical rule at its limit, labelled.
  const slos = new Map<string, { ms: number; label: string }>()
  for (const j of withHistogram) {
    for (const v of j.slo) if (v.unit === 'ms') slos.set(`${v.metric}${v.threshold}`, { ms: v.threshold, label: `SLO ${v.metric} ≤ ${v.threshold} ms` })
  }
  const layers: unknown[] = [{
    params: [legendPick],
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log scale)' },
      y: { field: 'q', type: 'quantitative', title: 'fraction of requests', scale: { domain: [0, 1] } },
      color: { field: 'series', type: 'nominal', title: 'configuration', sort: null }, opacity: fadeUnpicked,
      tooltip: tooltip([['series', 'configuration', 'nominal'], ['q', 'quantile', 'quantitative', '.4f'], ['ms', 'ms', 'quantitative', '.3f']]),
    },
  }]
  if (slos.size) {
    layers.push({ data: { values: [...slos.values()] }, mark: { type: 'rule', color: '#d62728', strokeDash: [6, 3] }, encoding: { x: { field: 'ms', type: 'quantitative' }, tooltip: tooltip([['label', 'SLO', 'nominal']]) } })
    layers.push({ data: { values: [...slos.values()] }, mark: { type: 'text', color: '#d62728', align: 'right', dx: -4, y: HEIGHT - 10 }, encoding: { x: { field: 'ms', type: 'quantitative' }, text: { field: 'label' } } })
  }
  return {
    title: 'Latency distribution (CDF)',
    note: `From each job's full latency histogram${slos.size ? '; the dashed red rule is the SLO\'s limit' : ''}${jobs.filter((j) => j.histogram).length > 16 ? '; the first 16 configurations' : ''}.`,
    spec: { $schema: SCHEMA, config: CONFIG, width: WIDTH, height: HEIGHT, data: { values: rows }, layer: layers },
  }
}

function byLoad(jobs: readonly MeasuredJob[], swept: string[]): Omit<Chart, 'id'> | undefined {
  // A ramp is a curve by itself: each of its steps is a point.
  const rows = jobs.flatMap((j) => {
    if (j.ramp) {
      return j.ramp.steps.map((st) => ({ series: seriesLabel(j, [], swept), load: st.rate, kind: 'offered rate (req/s)', requestsPerSec: st.achievedRps, p99: st.p99, p50: st.p50 }))
    }
    const load = loadOf(j)
    if (!load || j.peak) return []
    return [{
      series: seriesLabel(j, ['bench'], swept), load: load.value, kind: load.kind === 'rate' ? 'offered rate (req/s)' : 'concurrency (clients)',
      requestsPerSec: j.throughput.requestsPerSec, p99: j.latency.p99, p50: j.latency.p50,
    }]
  })
  if (new Set(rows.map((r) => r.load)).size < 2) return undefined
  const kinds = new Set(rows.map((r) => r.kind))
  const x = { field: 'load', type: 'quantitative', title: kinds.size === 1 ? [...kinds][0] : 'load (clients or req/s)' }
  const base = { params: [legendPick], mark: { type: 'line', point: true } }
  const tips = tooltip([['series', 'configuration', 'nominal'], ['load', 'load'], ['requestsPerSec', 'requests/s', 'quantitative', ',.1f'], ['p50', 'p50 ms', 'quantitative', '.3f'], ['p99', 'p99 ms', 'quantitative', '.3f']])
  return {
    title: 'Throughput and tail latency vs load',
    note: 'Answered requests per second and p99 as the offered load grows: the knee is where latency rises while throughput stops.',
    spec: {
      $schema: SCHEMA, config: CONFIG, data: { values: rows },
      hconcat: [
        { ...base, width: WIDTH / 2 + 40, height: HEIGHT, encoding: { x, y: { field: 'requestsPerSec', type: 'quantitative', title: 'requests/s' }, color: { field: 'series', type: 'nominal', title: 'configuration', sort: null }, opacity: fadeUnpicked, tooltip: tips } },
        { ...base, params: [], width: WIDTH / 2 + 40, height: HEIGHT, encoding: { x, y: { field: 'p99', type: 'quantitative', title: 'p99 (ms)' }, color: { field: 'series', type: 'nominal', title: 'configuration', sort: null }, opacity: fadeUnpicked, tooltip: tips } },
      ],
    },
  }
}

/** Pipeline stages in the order a request passes them, then the server split of plain jobs. */
const STAGE_ORDER = ['preprocess', 'request', 'queue', 'inference', 'server', 'response', 'network', 'postprocess']
const SPLIT_ORDER = ['queue (server)', 'compute (server)', 'client + network']

function stages(jobs: readonly MeasuredJob[], swept: string[]): Omit<Chart, 'id'> | undefined {
  const timed = jobs.filter((j) => j.stages || (j.serverTimings && (j.serverTimings.queueMs !== undefined || j.serverTimings.computeMs !== undefined)))
  if (timed.length === 0) return undefined
  const rows = timed.flatMap((j) => {
    const series = seriesLabel(j, [], swept)
    if (j.stages) {
      // A pipeline's own per-request stages (jobs[].stages), as in the paper's Fig. 14.
      return Object.entries(j.stages).map(([stage, s]) => ({ series, stage, ms: s.mean, order: STAGE_ORDER.indexOf(stage) }))
    }
    const queue = j.serverTimings!.queueMs ?? 0
    const compute = j.serverTimings!.computeMs ?? 0
    return [
      { series, stage: SPLIT_ORDER[0], ms: queue, order: 10 },
      { series, stage: SPLIT_ORDER[1], ms: compute, order: 11 },
      { series, stage: SPLIT_ORDER[2], ms: Math.max(0, j.latency.mean - queue - compute), order: 12 },
    ]
  })
  const order = [...STAGE_ORDER, ...SPLIT_ORDER].filter((stage) => rows.some((r) => r.stage === stage))
  const piped = timed.some((j) => j.stages)
  return {
    title: 'Where the time goes (mean per request)',
    note: piped
      ? 'Each stage of the pipeline, timed per request: pre-processing, sending the request, the server\'s queue, inference and its own overhead, the answer\'s way back, post-processing.'
      : 'Queue and compute as the server reported them; the rest of the mean latency is the client and the network.',
    spec: {
      $schema: SCHEMA, config: CONFIG, width: WIDTH, height: { step: 22 }, data: { values: rows }, mark: 'bar',
      encoding: {
        y: { field: 'series', type: 'nominal', title: null, axis: { labelLimit: 260 } }, x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'ms (mean)' },
        color: { field: 'stage', type: 'nominal', sort: order, scale: { domain: order } }, order: { field: 'order' },
        tooltip: tooltip([['series', 'configuration', 'nominal'], ['stage', 'stage', 'nominal'], ['ms', 'ms', 'quantitative', '.3f']]),
      },
    },
  }
}

/** Each peak search's steps: the SLO's figure at every rate tried, passing or not, with the limit. */
function peakSearch(jobs: readonly MeasuredJob[], swept: string[]): Omit<Chart, 'id'> | undefined {
  const searched = jobs.filter((j) => j.peak)
  if (searched.length === 0) return undefined
  const rows = searched.flatMap((j) => j.peak!.steps.map((st) => ({
    series: seriesLabel(j, [], swept), rate: st.rate, p99: st.p99, p50: st.p50, outcome: st.meets ? 'met the SLO' : st.why?.includes('late-sends') ? 'sent late (load generator)' : st.valid ? 'missed the SLO' : 'invalid',
    why: st.why ?? '', goodput: j.peak!.goodputRps ?? 0,
  })))
  const outcomes = ['met the SLO', 'missed the SLO', 'sent late (load generator)', 'invalid']
  return {
    title: 'Peak search (findPeak): p99 at each rate tried',
    note: `Goodput: ${searched.map((j) => `${seriesLabel(j, [], swept)} ${j.peak!.goodputRps === undefined ? 'none met' : `${j.peak!.boundBy === 'load-generator' ? '≥ ' : ''}${Math.round(j.peak!.goodputRps).toLocaleString('en-US')} req/s`}`).join('; ')} within ${searched[0]!.peak!.slo}. A step sent late says the load generator, not the backend, set the limit.`,
    spec: {
      $schema: SCHEMA, config: CONFIG, width: WIDTH, height: HEIGHT, data: { values: rows },
      mark: { type: 'point', filled: true, size: 80 },
      encoding: {
        x: { field: 'rate', type: 'quantitative', scale: { type: 'log' }, title: 'offered rate (req/s, log scale)' },
        y: { field: 'p99', type: 'quantitative', scale: { type: 'log' }, title: 'p99 (ms, log scale)' },
        color: { field: 'series', type: 'nominal', title: 'configuration', sort: null },
        shape: { field: 'outcome', type: 'nominal', title: 'step', scale: { domain: outcomes } },
        tooltip: tooltip([['series', 'configuration', 'nominal'], ['rate', 'req/s', 'quantitative', ',.1f'], ['p50', 'p50 ms', 'quantitative', '.3f'], ['p99', 'p99 ms', 'quantitative', '.3f'], ['outcome', 'step', 'nominal'], ['why', 'why', 'nominal']]),
      },
    },
  }
}

/** At most this many points per probe series and job: a long run's samples thinned evenly. */
const MAX_POINTS = 300

function resources(jobs: readonly MeasuredJob[], swept: string[]): Omit<Chart, 'id'> | undefined {
  const rows: Array<{ series: string; metric: string; t: number; value: number }> = []
  for (const j of jobs) {
    for (const [probe, result] of Object.entries(j.probes ?? {})) {
      if (!result.available) continue
      const stride = Math.max(1, Math.ceil(result.samples.atMs.length / MAX_POINTS))
      for (const [name, values] of Object.entries(result.samples.series)) {
        for (let i = 0; i < values.length; i += stride) rows.push({ series: seriesLabel(j, [], swept), metric: `${probe}: ${name}`, t: result.samples.atMs[i]! / 1000, value: values[i]! })
      }
    }
  }
  if (rows.length === 0) return undefined
  const metrics = [...new Set(rows.map((r) => r.metric))].sort()
  return {
    title: 'Resources during the measurement',
    note: 'Probe samples over each job\'s measurement; pick the series in the menu under the chart.',
    spec: {
      $schema: SCHEMA, config: CONFIG, width: WIDTH, height: HEIGHT, data: { values: rows },
      params: [{ name: 'metric', value: metrics.find((m) => /cpu/i.test(m)) ?? metrics[0], bind: { input: 'select', options: metrics, name: 'series ' } }, legendPick],
      transform: [{ filter: 'datum.metric === metric' }],
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds into the measurement' }, y: { field: 'value', type: 'quantitative', title: 'the series picked below (its unit is in its name)' },
        color: { field: 'series', type: 'nominal', title: 'configuration', sort: null }, opacity: fadeUnpicked,
        tooltip: tooltip([['series', 'configuration', 'nominal'], ['metric', 'series', 'nominal'], ['t', 's', 'quantitative', '.2f'], ['value', 'value', 'quantitative', ',.3~f']]),
      },
    },
  }
}

function cost(jobs: readonly MeasuredJob[], swept: string[]): Omit<Chart, 'id'> | undefined {
  const rows = jobs.flatMap((j) => {
    const series = seriesLabel(j, [], swept)
    const c = j.cost
    if (!c) return []
    return [
      ...(c.energy ? [{ series, metric: `energy (mJ/request, ${c.energy.basis})`, value: c.energy.perRequestJ * 1000 }] : []),
      ...(c.co2 ? [{ series, metric: 'CO2 (mg/request)', value: c.co2.perRequestG * 1000 }] : []),
      ...(c.cloud ? [{ series, metric: `cloud (USD per 1M requests, ${c.cloud.instance})`, value: c.cloud.perMillionRequestsUsd }] : []),
    ]
  })
  if (rows.length === 0) return undefined
  return {
    title: 'Energy, CO2 and cloud cost per request',
    note: 'Energy measured (RAPL, nvidia-smi) or estimated from CPU utilisation, as labelled; CO2 from the grid\'s intensity; cost from the instance\'s hourly price.',
    spec: {
      $schema: SCHEMA, config: CONFIG, data: { values: rows },
      facet: { row: { field: 'metric', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelOrient: 'top' } } },
      resolve: { scale: { x: 'independent' } },
      spec: {
        width: WIDTH, height: { step: 18 }, mark: 'bar',
        encoding: {
          y: { field: 'series', type: 'nominal', title: null, axis: { labelLimit: 260 } }, x: { field: 'value', type: 'quantitative', title: null },
          tooltip: tooltip([['series', 'configuration', 'nominal'], ['metric', 'figure', 'nominal'], ['value', 'value', 'quantitative', ',.4~f']]),
        },
      },
    },
  }
}

/** A heat map for each pair of swept axes that, with the rest fixed, names one job per cell. */
function heatMaps(jobs: readonly MeasuredJob[], swept: string[]): Array<Omit<Chart, 'id'>> {
  const axes = swept.filter((k) => k !== 'bench' && (k !== 'model' || !swept.some((s) => s.startsWith('model.'))))
  const charts: Array<Omit<Chart, 'id'>> = []
  for (let i = 0; i < axes.length && charts.length < 3; i++) {
    for (let k = i + 1; k < axes.length && charts.length < 3; k++) {
      const [a, b] = [axes[i]!, axes[k]!]
      // The other swept axes (and the bench, when the suite has several) each get a panel.
      const rest = [...(swept.includes('bench') ? ['bench'] : []), ...axes.filter((x) => x !== a && x !== b)]
      const rows = jobs.flatMap((j) => {
        const v = axesOf(j)
        const panel = rest.map((r) => `${r}=${axisValue(j, r)}`).join(', ') || 'all'
        return [['p50 (ms)', j.latency.p50], ['p99 (ms)', j.latency.p99], ['samples/s', j.throughput.samplesPerSec]].map(([metric, value]) => ({ a: v[a], b: v[b], panel, metric, value }))
      })
      const panels = new Set(rows.map((r) => r.panel))
      const cells = new Set(rows.map((r) => `${r.panel}\0${String(r.a)}\0${String(r.b)}\0${r.metric}`))
      if (cells.size !== rows.length || panels.size > 6) continue // the pair does not name one job per cell
      const numeric = (axis: string) => jobs.every((j) => typeof axesOf(j)[axis] === 'number')
      const sortOf = (axis: string) => (numeric(axis) ? { sort: 'ascending' } : {})
      const inner = {
        width: { step: 44 }, height: { step: 30 },
        layer: [
          { mark: 'rect', encoding: { color: { field: 'value', type: 'quantitative', title: null, scale: { scheme: 'viridis' } }, tooltip: tooltip([['a', a, 'ordinal'], ['b', b, 'ordinal'], ['metric', 'metric', 'nominal'], ['value', 'value', 'quantitative', ',.3~f']]) } },
          { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'value', type: 'quantitative', format: ',.3~r' }, color: { value: 'white' }, tooltip: tooltip([['a', a, 'ordinal'], ['b', b, 'ordinal'], ['metric', 'metric', 'nominal'], ['value', 'value', 'quantitative', ',.3~f']]) } },
        ],
        encoding: { x: { field: 'a', type: 'ordinal', title: a, ...sortOf(a) }, y: { field: 'b', type: 'ordinal', title: b, ...sortOf(b) } },
      }
      charts.push({
        title: `Heat map: ${a} × ${b}`,
        note: `Each cell one configuration; pick the figure in the menu under the chart${panels.size > 1 ? `; one panel per ${rest.join(', ')}` : ''}.`,
        spec: {
          $schema: SCHEMA, config: CONFIG, data: { values: rows },
          params: [{ name: 'metric', value: 'p99 (ms)', bind: { input: 'select', options: ['p50 (ms)', 'p99 (ms)', 'samples/s'], name: 'figure ' } }],
          transform: [{ filter: 'datum.metric === metric' }],
          ...(panels.size > 1 ? { facet: { column: { field: 'panel', type: 'nominal', title: null } }, spec: inner } : inner),
        },
      })
    }
  }
  return charts
}

function roofline(jobs: readonly MeasuredJob[], swept: string[], ceilings: Ceilings | undefined): Omit<Chart, 'id'> | undefined {
  const analysed = jobs.filter((j) => j.model?.flops && j.model.bytes && j.throughput.requestsPerSec > 0)
  if (analysed.length === 0) return undefined
  const points = analysed.map((j) => {
    const intensity = j.model!.flops! / j.model!.bytes!
    const attained = j.model!.flops! * j.throughput.requestsPerSec
    const placed = ceilings ? placeOnRoofline(j.model!.flops!, j.model!.bytes!, j.throughput.requestsPerSec, ceilings) : undefined
    return { series: seriesLabel(j, [], swept), intensity, gflops: attained / 1e9, bound: placed ? `${placed.bound}-bound` : 'no ceilings', efficiency: placed?.efficiency }
  })
  const layers: unknown[] = []
  if (ceilings) {
    const lo = Math.min(...points.map((p) => p.intensity), ceilings.peakFlops / ceilings.bandwidthBytesPerSec) / 4
    const hi = Math.max(...points.map((p) => p.intensity), ceilings.peakFlops / ceilings.bandwidthBytesPerSec) * 4
    const roof = Array.from({ length: 41 }, (_, i) => lo * (hi / lo) ** (i / 40)).map((x) => ({ intensity: x, gflops: Math.min(ceilings.peakFlops, x * ceilings.bandwidthBytesPerSec) / 1e9 }))
    layers.push({ data: { values: roof }, mark: { type: 'line', color: '#444' }, encoding: { x: { field: 'intensity', type: 'quantitative' }, y: { field: 'gflops', type: 'quantitative' } } })
  }
  layers.push({
    data: { values: points }, params: [legendPick], mark: { type: 'point', filled: true, size: 70 },
    encoding: {
      x: { field: 'intensity', type: 'quantitative', scale: { type: 'log' }, title: 'arithmetic intensity (FLOP/byte)' },
      y: { field: 'gflops', type: 'quantitative', scale: { type: 'log' }, title: 'attained GFLOP/s' },
      color: { field: 'series', type: 'nominal', title: 'configuration', sort: null }, shape: { field: 'bound', type: 'nominal', title: 'bound' }, opacity: fadeUnpicked,
      tooltip: tooltip([['series', 'configuration', 'nominal'], ['intensity', 'FLOP/byte', 'quantitative', '.2f'], ['gflops', 'GFLOP/s', 'quantitative', ',.2f'], ['bound', 'bound', 'nominal'], ...(ceilings ? [['efficiency', 'of attainable', 'quantitative', '.0%'] as [string, string, 'quantitative', string]] : [])]),
    },
  })
  return {
    title: 'Roofline',
    note: ceilings
      ? `Ceilings: ${ceilings.name}, ${(ceilings.peakFlops / 1e9).toFixed(1)} GFLOP/s and ${(ceilings.bandwidthBytesPerSec / 1e9).toFixed(1)} GB/s (${ceilings.source}). A point above the memory roof keeps its weights in cache.`
      : 'No ceilings for this machine yet: run `inferbench roofline` once to measure them, and the roof is drawn in later reports.',
    spec: { $schema: SCHEMA, config: CONFIG, width: WIDTH, height: HEIGHT, layer: layers },
  }
}
