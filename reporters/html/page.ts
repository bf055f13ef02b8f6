import { formatMs } from '../../core/duration.ts'
import { hardwareLabel } from '../../core/fingerprint.ts'
import type { JobReport, RunReport } from '../../core/report.ts'
import type { LeaderboardEntry } from '../analysis/leaderboard.ts'
import { sloStatus } from '../analysis/leaderboard.ts'
import type { Chart } from './charts.ts'

export interface SuiteSection {
  id: string
  name: string
  jobs: JobReport[]
  charts: Chart[]
  recommendation: SuiteRecommendation
}

export type SuiteRecommendation =
  | { kind: 'none'; why: string }
  | { kind: 'ranked'; slo: string; meets: boolean; picks: Array<{ label: string; figure: string; confidence: string; why: string }>; notes: string[] }

export interface PageInput {
  run: RunReport
  suites: SuiteSection[]
  leaderboard: { entries: LeaderboardEntry[]; source: string }
  /** The inlined browser builds of vega, vega-lite and vega-embed. */
  scripts: string
}

/** The whole report: one HTML file, every script and datum inline, so it opens with no network. */
export function reportPage(input: PageInput): string {
  const { run } = input
  const charts = input.suites.flatMap((s) => s.charts)
  const title = `inferbench report, ${run.startedAt.slice(0, 16).replace('T', ' ')}`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="inferbench ${esc(run.fingerprint.inferbench)}">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>${esc(title)}</h1>
  <p class="meta">${esc(hardwareLabel(run.fingerprint))} · ${esc(run.fingerprint.hostname)} · Node ${esc(run.fingerprint.node)} · ${run.durationMs ? `${(run.durationMs / 1000).toFixed(1)} s · ` : ''}
  <span class="passed">${run.counts.passed} passed</span>, <span class="failed">${run.counts.failed} failed</span>, <span class="errored">${run.counts.errored} errored</span>, ${run.counts.skipped} skipped${run.stoppedEarly ? ` · <strong>stopped early: ${esc(run.stoppedEarly)}</strong>` : ''}</p>
  <nav>${input.suites.map((s) => `<a href="#${s.id}">${esc(s.name)}</a>`).join(' ')} <a href="#leaderboard">leaderboard</a></nav>
</header>
<main>
${input.suites.map(suiteHtml).join('\n')}
${leaderboardHtml(input.leaderboard)}
</main>
<script>${input.scripts.replace(/<\/script/gi, '<\\/script')}</script>
<script>
const CHARTS = ${jsonForScript(charts.map((c) => ({ id: c.id, spec: c.spec })))};
${CLIENT_SCRIPT}
</script>
</body>
</html>
`
}

function suiteHtml(s: SuiteSection): string {
  return `<section class="suite" id="${s.id}">
<h2>${esc(s.name)}</h2>
${resultsTable(s.jobs)}
${recommendationHtml(s.recommendation)}
<div class="charts">
${s.charts.map((c) => `<figure class="chart"><figcaption><strong>${esc(c.title)}</strong><br><span>${esc(c.note)}</span></figcaption><div id="${c.id}" class="vega" data-title="${esc(c.title)}"></div></figure>`).join('\n')}
</div>
</section>`
}

function resultsTable(jobs: JobReport[]): string {
  const rows = jobs.map((j) => {
    const params = Object.entries(j.params).map(([k, v]) => `${k}=${v}`).join(', ')
    const measured = j.status !== 'skipped' && 'latency' in j && j.latency
    const peak = measured && j.peak ? (j.peak.goodputRps === undefined ? 'none' : `${j.peak.boundBy === 'load-generator' ? '≥ ' : ''}${Math.round(j.peak.goodputRps).toLocaleString('en-US')}`) : ''
    const figures = measured
      ? `<td class="num">${esc(formatMs(j.latency!.p50))}</td><td class="num">${esc(formatMs(j.latency!.p99))}</td><td class="num">${Math.round(j.throughput!.samplesPerSec).toLocaleString('en-US')}</td><td class="num">${esc(peak)}</td>`
      : '<td></td><td></td><td></td><td></td>'
    const detail = j.status === 'errored' ? esc(j.error.message) : j.status === 'skipped' ? esc(j.reason) : j.status === 'failed' ? esc(j.failures.join('; ')) : ''
    return `<tr class="${j.status}"><td>${esc(j.name)}</td><td>${esc(params)}</td><td>${esc(j.settings?.workload.label ?? '')}</td>${figures}<td>${esc(sloStatus(j))}</td><td class="status">${j.status}</td><td class="detail">${detail}</td></tr>`
  })
  return `<table class="results"><thead><tr><th>bench</th><th>configuration</th><th>workload</th><th>p50</th><th>p99</th><th>samples/s</th><th title="findPeak: the highest Poisson rate meeting the SLO">goodput req/s</th><th>SLO</th><th>status</th><th></th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`
}

function recommendationHtml(r: SuiteRecommendation): string {
  if (r.kind === 'none') return `<div class="recommend"><strong>Recommendation</strong>: ${esc(r.why)}</div>`
  const head = r.meets ? `the configurations of this suite that meet <code>${esc(r.slo)}</code>, best throughput first` : `no configuration of this suite meets <code>${esc(r.slo)}</code>; the closest`
  return `<div class="recommend"><strong>Recommendation</strong>: ${head}
<ol>${r.picks.map((p) => `<li><strong>${esc(p.label)}</strong> — ${esc(p.figure)} <span class="dim">(confidence ${esc(p.confidence)}: ${esc(p.why)})</span></li>`).join('')}</ol>
${r.notes.length ? `<p class="dim">${esc(r.notes.join('; '))}</p>` : ''}</div>`
}

function leaderboardHtml(board: PageInput['leaderboard']): string {
  const num = (v: number | undefined, text: string) => `<td class="num" data-sort="${v ?? ''}">${v === undefined ? '-' : esc(text)}</td>`
  const rows = board.entries.map((e) => {
    const options = Object.entries(e.params).filter(([k]) => !['model', 'backend', 'batch'].includes(k)).map(([k, v]) => `${k}=${v}`).join(', ')
    return `<tr><td>${esc(e.suite)} &gt; ${esc(e.name)}</td><td>${esc(String(e.params.model ?? '-'))}</td><td>${esc(String(e.params.backend ?? '-'))}</td>${num(Number(e.params.batch), String(e.params.batch))}<td>${esc(options || '-')}</td><td>${esc(e.hardware)}</td><td>${esc(e.workload ?? '-')}</td>${num(e.p50, formatMs(e.p50))}${num(e.p99, formatMs(e.p99))}${num(e.samplesPerSec, Math.round(e.samplesPerSec).toLocaleString('en-US'))}${num(e.energyPerSampleJ, e.energyPerSampleJ?.toPrecision(3) ?? '')}${num(e.usdPerMillionSamples, e.usdPerMillionSamples?.toPrecision(3) ?? '')}<td>${esc(e.slo)}</td><td>${esc(e.measurement)}</td>${num(e.runs, String(e.runs))}</tr>`
  })
  const header = ['bench', 'model', 'backend', 'batch', 'options', 'hardware', 'workload', 'p50', 'p99', 'samples/s', 'J/sample', '$/1M samples', 'SLO', 'measurement', 'runs']
  return `<section id="leaderboard">
<h2>Leaderboard</h2>
<p class="dim">${esc(board.source)}. Click a column to sort; type to filter (every word must appear in the row; <code>key=value</code> matches a column exactly, e.g. <code>backend=server</code>).</p>
<input id="leaderboard-filter" type="search" placeholder="filter, e.g. batch=8 resnet" aria-label="filter the leaderboard">
<span id="leaderboard-count" class="dim"></span>
<table class="leaderboard"><thead><tr>${header.map((h, i) => `<th data-col="${i}" data-key="${esc(h)}">${esc(h)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
</section>`
}

/** JSON inside a <script>: `<` escaped so no string in it can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #fff; border-bottom: 1px solid #ddd; padding: 12px 24px; position: sticky; top: 0; z-index: 2; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta, .dim { color: #666; } nav a { margin-right: 12px; }
main { padding: 0 24px 48px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #e2e2e2; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.leaderboard th { cursor: pointer; user-select: none; } .leaderboard th.asc::after { content: ' ▲'; } .leaderboard th.desc::after { content: ' ▼'; }
tr.failed .status, .failed { color: #b00020; } tr.errored .status, .errored { color: #b35c00; } .passed { color: #1a7f37; }
td.detail { max-width: 420px; color: #666; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { background: #fff; border: 1px solid #e2e2e2; margin: 0; padding: 10px; }
figcaption { max-width: 560px; margin-bottom: 6px; } figcaption span { color: #666; font-size: 12px; }
.recommend { background: #fff; border-left: 4px solid #4c78a8; padding: 8px 12px; margin: 10px 0; }
#leaderboard-filter { width: 320px; padding: 4px 6px; margin: 4px 0; }
.chart-error { color: #b00020; white-space: pre-wrap; }
`

/** Renders each chart with vega-embed (tooltips, SVG/PNG export), and makes the leaderboard sortable and filterable. */
const CLIENT_SCRIPT = `
window.inferbenchCharts = { rendered: 0, failed: [] };
for (const chart of CHARTS) {
  vegaEmbed('#' + chart.id, chart.spec, { renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false }, downloadFileName: chart.id })
    .then(() => { window.inferbenchCharts.rendered++ })
    .catch((error) => {
      window.inferbenchCharts.failed.push(chart.id + ': ' + error.message);
      const el = document.getElementById(chart.id);
      el.textContent = 'this chart could not be drawn: ' + error.message;
      el.className = 'chart-error';
    });
}
(function leaderboard() {
  const table = document.querySelector('table.leaderboard');
  if (!table) return;
  const body = table.tBodies[0];
  const headers = [...table.tHead.rows[0].cells];
  const count = document.getElementById('leaderboard-count');
  const keys = headers.map((h) => h.dataset.key);
  const cellValue = (row, i) => { const c = row.cells[i]; return c.dataset.sort !== undefined ? (c.dataset.sort === '' ? null : Number(c.dataset.sort)) : c.textContent; };
  headers.forEach((th, i) => th.addEventListener('click', () => {
    const dir = th.classList.contains('asc') ? -1 : 1;
    headers.forEach((h) => h.classList.remove('asc', 'desc'));
    th.classList.add(dir === 1 ? 'asc' : 'desc');
    const rows = [...body.rows].sort((a, b) => {
      const x = cellValue(a, i); const y = cellValue(b, i);
      if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1;
      return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
    });
    body.append(...rows);
  }));
  const filter = document.getElementById('leaderboard-filter');
  const apply = () => {
    const terms = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let shown = 0;
    for (const row of body.rows) {
      const text = row.textContent.toLowerCase();
      const ok = terms.every((t) => {
        const m = /^([^=]+)=(.*)$/.exec(t);
        if (!m) return text.includes(t);
        const col = keys.indexOf(m[1]);
        if (col >= 0) return row.cells[col].textContent.toLowerCase() === m[2];
        return text.includes(m[1] + '=' + m[2]);
      });
      row.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown + ' of ' + body.rows.length + ' configurations';
  };
  filter.addEventListener('input', apply);
  apply();
})();
`
