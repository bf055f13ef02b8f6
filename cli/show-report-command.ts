import { createReadStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path'
import { loadConfig } from '../core/config.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import type { TextSink } from '../core/plugin.ts'
import type { JobStatus, RunReport } from '../core/report.ts'
import { DEFAULT_HTML_FILE, htmlReport } from '../reporters/html/index.ts'
import { latestRunId, loadSide, perfDbPath, type StoreFlags } from './store-command.ts'

export interface ShowReportFlags extends Pick<StoreFlags, 'config' | 'db'> {
  /** Build the report from a stored run (an id, 'latest') or a JSON report file first. */
  run?: string
  port?: string
  host?: string
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.xml': 'application/xml', '.svg': 'image/svg+xml', '.png': 'image/png', '.js': 'text/javascript', '.css': 'text/css' }

/**
 * `inferbench show-report [dir]`: serves an HTML report folder (default inferbench-report/) on
 * localhost and prints its URL, until Ctrl-C. `--run <id|latest|file.json>` writes the report of a
 * stored run or a JSON report there first.
 */
export async function showReportCommand(target: string | undefined, flags: ShowReportFlags, cwd: string, out: TextSink, signal?: AbortSignal): Promise<number> {
  // A folder (its index.html) or a report file (--outputFile.html=out/report.html). A stored run
  // gets a folder of its own, so it never overwrites the latest run's report.
  const given = target === undefined ? undefined : resolve(cwd, target)
  const isFile = given !== undefined && extname(given) === '.html'
  const folder = isFile ? dirname(given!) : given ?? resolve(cwd, DEFAULT_HTML_FILE.split('/')[0]!, ...(flags.run !== undefined ? [`run-${flags.run.replace(/[^\w.-]/g, '_')}`] : []))
  const index = isFile ? given! : join(folder, 'index.html')
  if (flags.run !== undefined) {
    await writeStoredReport(flags.run, flags, cwd, index)
    out.write(`wrote ${relative(cwd, index) || index}\n`)
  } else if (!existsSync(index)) {
    throw new InferbenchError('INFERBENCH_USAGE', `show-report: no report at ${relative(cwd, index) || index}: run npx inferbench --reporter html, or build one from a stored run with inferbench show-report --run latest`)
  }
  const port = flags.port === undefined ? 0 : Number(flags.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InferbenchError('INFERBENCH_USAGE', `show-report: --port: expected 0–65535, received '${flags.port}'`)
  const host = flags.host ?? '127.0.0.1'
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = resolve(folder, `.${path.endsWith('/') ? `${path}index.html` : path}`)
    // Only files inside the report folder: '..' in a URL stays in it.
    if (!(file === folder || file.startsWith(folder + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' })
    createReadStream(file).pipe(res)
  })
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => fail(new InferbenchError('INFERBENCH_SERVE_FAILED', `show-report: cannot listen on ${host}:${port}: ${error.code ?? error.message}`)))
    server.listen(port, host, done)
  })
  const bound = (server.address() as { port: number }).port
  out.write(`inferbench report at http://${host.includes(':') ? `[${host}]` : host}:${bound}/${isFile ? encodeURIComponent(basename(index)) : ''} (serving ${relative(cwd, folder) || '.'}; Ctrl-C to stop)\n`)
  await new Promise<void>((done) => {
    if (signal) signal.addEventListener('abort', () => done(), { once: true })
    else { process.once('SIGINT', done); process.once('SIGTERM', done) }
  })
  await new Promise<void>((done) => server.close(() => done()))
  return EXIT.ok
}

async function writeStoredReport(ref: string, flags: ShowReportFlags, cwd: string, index: string): Promise<void> {
  const side = await loadSide(ref === 'latest' ? String(await latestRunId(flags, cwd)) : ref, flags, cwd)
  const counts: Record<JobStatus, number> = { passed: 0, failed: 0, errored: 0, skipped: 0 }
  for (const j of side.jobs) counts[j.status]++
  const run: RunReport = { startedAt: side.startedAt, finishedAt: side.startedAt, durationMs: 0, fingerprint: side.fingerprint, jobs: side.jobs, counts }
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })
  mkdirSync(resolve(index, '..'), { recursive: true })
  writeFileSync(index, htmlReport(run, { root: config.root, perfDb: await perfDbPath(flags, cwd) }))
}
