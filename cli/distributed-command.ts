import { existsSync, readFileSync } from 'node:fs'
import { relative, resolve } from 'node:path'
import c from 'picocolors'
import { loadConfig } from '../core/config.ts'
import { formatMs } from '../core/duration.ts'
import { EXIT, InferbenchError } from '../core/errors.ts'
import { planAsYamlSuite } from '../core/plan-as-yaml.ts'
import { createRegistry, type TextSink } from '../core/plugin.ts'
import { withBuiltinPlugins } from '../runners/builtin-plugins.ts'
import { runFollower } from '../runners/follower.ts'
import { prepareRun } from '../runners/prepare-run.ts'
import { currentUser } from '../core/store/perf-db.ts'
import { startLeader } from '../runners/leader/leader.ts'
import { DEFAULT_LEADER_PORT, leaderAddress, leaderClient } from '../runners/leader/service.ts'

export interface LeaderFlags { host?: string; port?: string; db?: string; config?: string; heartbeat?: string; tlsCert?: string; tlsKey?: string }

/** `inferbench leader`: runs until SIGTERM/SIGINT. */
export async function leaderCommand(flags: LeaderFlags, cwd: string, log: TextSink): Promise<number> {
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })
  const token = process.env.INFERBENCH_TOKEN || undefined
  const host = flags.host ?? '127.0.0.1'
  const port = flags.port === undefined ? DEFAULT_LEADER_PORT : Number(flags.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InferbenchError('INFERBENCH_USAGE', `leader: --port: expected 0–65535, received '${flags.port}'`)
  const dbPath = flags.db ? resolve(cwd, flags.db) : config.perfDb === false ? resolve(cwd, '.inferbench/leader.db') : config.perfDb
  const heartbeatMs = flags.heartbeat === undefined ? undefined : Number(flags.heartbeat)
  if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey)) throw new InferbenchError('INFERBENCH_USAGE', 'leader: TLS needs both --tls-cert and --tls-key (PEM files)')
  const read = (path: string, flag: string) => {
    try {
      return readFileSync(resolve(cwd, path))
    } catch (error) {
      throw new InferbenchError('INFERBENCH_USAGE', `leader: ${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  const tls = flags.tlsCert && flags.tlsKey ? { cert: read(flags.tlsCert, '--tls-cert'), key: read(flags.tlsKey, '--tls-key') } : undefined
  const leader = await startLeader({ host, port, dbPath, config, registry: createRegistry(withBuiltinPlugins(config.plugins)), ...(token ? { token } : {}), ...(heartbeatMs ? { heartbeatMs } : {}), ...(tls ? { tls } : {}) })
  log.write(`inferbench leader on ${host}:${leader.port}${tls ? ' (TLS)' : ''}, queue and results in ${dbPath}${token ? ', token required' : ' (no INFERBENCH_TOKEN: loopback only, no authentication)'}\n`)
  await new Promise<void>((done) => { process.once('SIGTERM', done); process.once('SIGINT', done) })
  await leader.stop()
  return EXIT.ok
}

export interface FollowerFlags { leader?: string; name?: string; config?: string }

/** `inferbench follower --leader host:port`: runs jobs until SIGTERM/SIGINT. */
export async function followerCommand(flags: FollowerFlags, cwd: string, log: TextSink): Promise<number> {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  await runFollower({
    leader: leaderAddress(flags.leader), cwd, signal: controller.signal, log: (line) => log.write(`${line}\n`),
    ...(flags.name ? { name: flags.name } : {}), ...(flags.config ? { configFile: resolve(cwd, flags.config) } : {}),
  })
  return EXIT.ok
}

/**
 * `inferbench submit a.bench.ts b.bench.yaml ...`: prints the task id. Each file is planned here,
 * as a local run would plan it (its code runs on this machine; errors name its own paths), and
 * its plan goes as a YAML suite, so the leader and followers only ever receive data, and the
 * job ids are the local ones.
 */
export async function submitCommand(files: string[], flags: { leader?: string; json?: boolean; wait?: boolean; config?: string; testNamePattern?: string }, cwd: string, out: TextSink): Promise<number> {
  if (files.length === 0) throw new InferbenchError('INFERBENCH_USAGE', 'submit: give one or more bench files (*.bench.ts or *.bench.yaml; each is planned here and its plan sent as data)')
  for (const f of files) {
    if (!/\.bench\.([cm]?[jt]sx?|ya?ml)$/.test(f)) throw new InferbenchError('INFERBENCH_USAGE', `submit: ${f} is not a bench file (*.bench.ts or *.bench.yaml)`)
    if (!existsSync(resolve(cwd, f))) throw new InferbenchError('INFERBENCH_USAGE', `submit: no file ${f}`)
  }
  const suites = await plannedSuites(files, flags, cwd)
  const names = suites.map((s) => s.name)
  const twice = names.find((n, i) => names.indexOf(n) !== i)
  if (twice) throw new InferbenchError('INFERBENCH_USAGE', `submit: two suites would be named ${twice} on the leader; submit them separately`)
  const client = leaderClient(leaderAddress(flags.leader))
  try {
    const reply = await client.call<{ taskId: string; jobIds: string[]; estimateMs: number; warnings: string[] }>('Submit', { user: currentUser(), suites })
    if (flags.json && !flags.wait) out.write(`${JSON.stringify(reply)}\n`)
    else if (!flags.json) {
      out.write(`task ${reply.taskId}: ${reply.jobIds.length} job${reply.jobIds.length === 1 ? '' : 's'} queued, estimated ${formatMs(reply.estimateMs)} of work (inferbench status ${reply.taskId})\n`)
      for (const w of reply.warnings) out.write(`${c.yellow('warning:')} ${w}\n`)
    }
    return flags.wait ? await waitForTask(client, reply.taskId, Boolean(flags.json), out) : EXIT.ok
  } finally {
    client.close()
  }
}

/** `submit --wait`: polls the task until every job ended; exit 0 only when every job passed (a CI gate). */
async function waitForTask(client: ReturnType<typeof leaderClient>, taskId: string, json: boolean, out: TextSink): Promise<number> {
  let last = ''
  for (;;) {
    const task = (await client.call<StatusReply>('Status', { taskId })).tasks[0]!
    const line = taskCounts(task.jobs)
    if (!json && line !== last) out.write(c.dim(` ${line}\n`))
    last = line
    if (task.state !== 'queued' && task.state !== 'running') {
      if (json) out.write(`${JSON.stringify(task)}\n`)
      else {
        for (const j of task.jobs.filter((x) => shownState(x) !== 'passed')) out.write(`   ${shownState(j).padEnd(9)} ${j.name}${j.error ? c.dim(`  ${j.error}`) : ''}\n`)
        out.write(`task ${taskId}: ${task.state} (inferbench show ${task.runId} --db <the leader's PerfDB> for the figures)\n`)
      }
      return task.state === 'done' ? EXIT.ok : EXIT.failed
    }
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

/** Plans TypeScript bench files as a local run would (same config, same -t) and writes each plan as a YAML suite. */
async function plannedSuites(files: string[], flags: { config?: string; testNamePattern?: string }, cwd: string): Promise<Array<{ name: string; yaml: string }>> {
  const prepared = await prepareRun({
    cwd, filters: files.map((f) => resolve(cwd, f)), ...(flags.config ? { configFile: resolve(cwd, flags.config) } : {}),
    overrides: { reporters: [], perfDb: false, ...(flags.testNamePattern !== undefined ? { testNamePattern: flags.testNamePattern } : {}) },
  })
  return prepared.files.map((file) => planAsYamlSuite(prepared.jobs.filter((j) => j.file === file), file, relative(cwd, file) || file))
}

interface StatusReply {
  tasks: Array<{ taskId: string; user: string; submittedAt: string; state: string; runId: number; jobs: Array<{ jobId: string; name: string; state: string; verdict: string; follower: string; attempts: number; error: string; waiting: string }> }>
  followers: Array<{ followerId: string; name: string; lastSeen: string; alive: boolean; queuedSeconds: number; backends: string[]; gpus: number }>
}

/** `inferbench status [task]`: tasks (or one) and the followers. */
export async function statusCommand(task: string | undefined, flags: { leader?: string; json?: boolean }, _cwd: string, out: TextSink): Promise<number> {
  const client = leaderClient(leaderAddress(flags.leader))
  try {
    const s = await client.call<StatusReply>('Status', { taskId: task ?? '' })
    if (flags.json) {
      out.write(`${JSON.stringify(s, null, 2)}\n`)
      return EXIT.ok
    }
    out.write(` ${c.bold('followers')}: ${s.followers.length ? s.followers.map((f) => `${f.followerId} ${f.alive ? c.green('alive') : c.dim('gone')}${c.dim(` (${f.gpus ? `${f.gpus} GPU${f.gpus === 1 ? '' : 's'}` : 'no GPU'}, ${f.backends.length} backends)`)}`).join(', ') : 'none registered'}\n`)
    for (const t of s.tasks) {
      out.write(`\n ${c.bold(`task ${t.taskId}`)}  ${t.state}  ${c.dim(`${t.user}, ${t.submittedAt.replace('T', ' ').slice(0, 19)}, PerfDB run ${t.runId}`)}  ${taskCounts(t.jobs)}\n`)
      if (task) for (const j of t.jobs) out.write(`   ${shownState(j).padEnd(9)} ${j.jobId}  ${j.name}${j.follower ? c.dim(` on ${j.follower}`) : ''}${j.attempts > 1 ? c.yellow(` (attempt ${j.attempts})`) : ''}${j.waiting ? c.yellow(`  waiting: ${j.waiting}`) : ''}${j.error ? c.dim(`  ${j.error}`) : ''}\n`)
    }
    return EXIT.ok
  } finally {
    client.close()
  }
}

/** A finished job shows its verdict (passed, failed: an SLO or check, errored); others their queue state. */
function shownState(j: { state: string; verdict: string }): string {
  return (j.state === 'done' || j.state === 'failed') && j.verdict ? j.verdict : j.state === 'leased' ? 'running' : j.state
}

function taskCounts(jobs: Array<{ state: string; verdict: string }>): string {
  const order = ['passed', 'failed', 'errored', 'running', 'queued', 'cancelled']
  const counts = new Map<string, number>()
  for (const j of jobs) counts.set(shownState(j), (counts.get(shownState(j)) ?? 0) + 1)
  return order.filter((k) => counts.get(k)).map((k) => `${counts.get(k)} ${k}`).join(', ')
}

/** `inferbench cancel <task>`. */
export async function cancelCommand(task: string | undefined, flags: { leader?: string }, _cwd: string, out: TextSink): Promise<number> {
  if (!task) throw new InferbenchError('INFERBENCH_USAGE', 'cancel: give the task id (inferbench status lists them)')
  const client = leaderClient(leaderAddress(flags.leader))
  try {
    await client.call<StatusReply>('Status', { taskId: task }) // an unknown task is an error, as for status
    const r = await client.call<{ cancelled: number }>('Cancel', { taskId: task })
    out.write(`task ${task}: ${r.cancelled} job${r.cancelled === 1 ? '' : 's'} cancelled\n`)
    return EXIT.ok
  } finally {
    client.close()
  }
}
