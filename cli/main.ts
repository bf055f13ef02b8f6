import { cac } from 'cac'
import c from 'picocolors'
import { EXIT, InferbenchError, USAGE_ERROR_CODES, isInferbenchError } from '../core/errors.ts'
import { INFERBENCH_VERSION } from '../runners/version.ts'
import type { StoreFlags } from './store-command.ts'
import { outputFileFlags, rawStringFlags } from './raw-flags.ts'

// Each command's module is imported when that command runs: importing them all up front cost
// every start (`--version`, a spawned `serve`) ~1.5 s of module loading under the TypeScript loader.

export async function main(argv: string[]): Promise<number> {
  const cli = cac('inferbench')
  let exitCode: number = EXIT.ok
  cli
    .command('[...filters]', 'Run bench files (filters: parts of file paths, or paths outside include)')
    .option('-t, --testNamePattern <pattern>', 'Run only jobs whose full name matches this regular expression')
    .option('--list', 'Print the jobs and their estimated durations without running anything')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--reporter <name>', 'Reporter to use: default, json, junit, or one from a plugin (repeatable)')
    .option('--outputFile <path>', 'Write file reporters here; --outputFile.json=<path> per reporter')
    .option('--bail [n]', 'Stop after n failed or errored jobs (default 1)')
    .option('--passWithNoTests', 'Exit 0 when there is no job to run (default: exit 1)')
    .option('--no-store', 'Do not store this run in the PerfDB (config perfDb, default .inferbench/perf.db)')
    .option('--compare <run|file>', 'After the run, compare it with a stored run id or a JSON report (changes beyond noise)')
    .option('--fail-on-regression <pct>', 'With --compare: exit 1 on a regression beyond noise larger than pct percent')
    .option('--shard <i/n>', 'Run shard i of n (split by estimated duration) and leave a blob for inferbench merge')
    .option('--shard-dir <dir>', 'Where --shard writes its blob (default .inferbench/shards)')
    .action(async (filters: string[], parsed: Record<string, unknown>) => {
      const options = { ...parsed, ...asTyped(argv, { testNamePattern: 't', config: 'c', reporter: undefined }, ['reporter']) }
      const outputFile = outputFileFlags(argv)
      exitCode = await (await import('./run-command.ts')).runCommand({
        filters,
        ...(typeof options.config === 'string' ? { config: options.config } : {}),
        list: Boolean(options.list),
        passWithNoTests: Boolean(options.passWithNoTests),
        ...(options.reporter !== undefined ? { reporter: asStrings(options.reporter) } : {}),
        ...(outputFile !== undefined ? { outputFile } : {}),
        ...(options.bail !== undefined ? { bail: bailFlag(options.bail) } : {}),
        ...(typeof options.testNamePattern === 'string' ? { testNamePattern: options.testNamePattern } : {}),
        ...(options.store === false ? { store: false } : {}),
        ...(options.compare !== undefined ? { compare: String(options.compare) } : {}),
        ...(options.failOnRegression !== undefined ? { failOnRegression: String(options.failOnRegression) } : {}),
        ...(options.shard !== undefined ? { shard: String(options.shard) } : {}),
        ...(options.shardDir !== undefined ? { shardDir: String(options.shardDir) } : {}),
      }, process.cwd(), process.stdout)
    })
  cli
    .command('merge [dir]', 'Merge the blobs of --shard=i/n runs into one report and PerfDB run')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--db <file>', 'A PerfDB file instead of the config\'s perfDb')
    .option('--outputFile <path>', 'Write the merged JSON report here')
    .option('--no-store', 'Do not store the merged run in the PerfDB')
    .option('--json', 'Print the merged JSON report')
    .action(async (dir: string | undefined, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./merge-command.ts')).mergeCommand(dir, {
        ...pickStrings(parsed, ['config', 'db', 'outputFile']),
        ...(parsed.store === false ? { store: false } : {}),
        json: Boolean(parsed.json),
      }, process.cwd(), process.stdout)
    })
  const storeOptions = (command: ReturnType<typeof cli.command>) => command
    .option('-c, --config <file>', 'Path to a config file')
    .option('--db <file>', 'A PerfDB file instead of the config\'s perfDb')
    .option('--json', 'Print JSON')
  storeOptions(cli.command('history', 'Stored runs, newest first; --job <pattern> lists one job across runs'))
    .option('--job <pattern>', 'Jobs whose suite > name or id matches this regular expression')
    .option('--limit <n>', 'At most n rows (default 20)')
    .action(async (parsed: Record<string, unknown>) => {
      exitCode = await (await import('./store-command.ts')).historyCommand(storeFlags(parsed), process.cwd(), process.stdout)
    })
  storeOptions(cli.command('import [...files]', 'Load JSON reports (--reporter json, CI artifacts, shards) into the PerfDB'))
    .action(async (files: string[], parsed: Record<string, unknown>) => {
      exitCode = await (await import('./store-command.ts')).importCommand(files, storeFlags(parsed), process.cwd(), process.stdout)
    })
  storeOptions(cli.command('compare [before] [after]', 'Compare two runs (ids from history, or JSON reports): faster, slower or same within noise per job'))
    .option('--fail-on-regression <pct>', 'Exit 1 on a regression beyond noise larger than pct percent')
    .action(async (before: string | undefined, after: string | undefined, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./store-command.ts')).compareCommand(before, after, storeFlags(parsed), process.cwd(), process.stdout)
    })
  storeOptions(cli.command('recommend', 'The top 3 stored configurations that meet an SLO: --slo \'p99<50ms\' [--objective throughput|cost|energy] [--model m]'))
    .option('--slo <constraints>', "e.g. 'p99<50ms' or 'p95<=20ms,throughput>=500' (samples/s)")
    .option('--objective <what>', 'throughput (default), cost or energy')
    .option('--model <name>', 'Only configurations whose model label contains this')
    .option('--backend <name>', 'Only configurations of this backend')
    .action(async (parsed: Record<string, unknown>) => {
      exitCode = await (await import('./recommend-command.ts')).recommendCommand({ ...pickStrings(parsed, ['slo', 'objective', 'model', 'backend', 'config', 'db']), json: Boolean(parsed.json) }, process.cwd(), process.stdout)
    })
  storeOptions(cli.command('leaderboard', 'Every stored configuration ranked: --sort throughput|p50|p99|energy|cost [--filter key=value|key~text]'))
    .option('--sort <figure>', 'throughput (default), p50, p99, energy or cost')
    .option('--filter <key=value>', 'Only configurations whose parameter equals (=) or contains (~) a value (repeatable)')
    .option('--limit <n>', 'At most n rows (default 30)')
    .action(async (parsed: Record<string, unknown>) => {
      const raw = asTyped(argv, { filter: undefined }, ['filter'])
      exitCode = await (await import('./leaderboard-command.ts')).leaderboardCommand({
        ...pickStrings(parsed, ['sort', 'limit', 'config', 'db']),
        ...(raw.filter !== undefined ? { filter: asStrings(raw.filter) } : {}),
        json: Boolean(parsed.json),
      }, process.cwd(), process.stdout)
    })
  cli
    .command('tune <model>', 'Find the configuration with the most goodput under an SLO: --slo \'p99<50ms\' (backend, batch, instances, server batching)')
    .option('--slo <constraints>', "e.g. 'p99<50ms' (a latency limit is needed; throughput>=N also filters)")
    .option('--backends <list>', 'Backends to try (default onnxruntime,server)')
    .option('--batch <list>', 'Batch sizes to try (default 1,4,16)')
    .option('--instances <list>', 'Instance counts to try (default 1,2)')
    .option('--batching <list>', 'Server dynamic-batching delays to try, off for none (default off,1ms,4ms)')
    .option('--step <duration>', 'Length of one findPeak step (default 1s)')
    .option('--budget <n>', 'At most n configurations measured (default 16)')
    .option('--exhaustive', 'Measure every configuration, however many')
    .option('--param <key=value>', 'A generator hyper-parameter (repeatable)')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--json', 'Print JSON')
    .action(async (model: string, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./tune-command.ts')).tuneCommand(model, {
        ...pickStrings(parsed, ['slo', 'backends', 'batch', 'instances', 'batching', 'step', 'budget', 'config']),
        ...(parsed.param !== undefined ? { param: asStrings(parsed.param) } : {}),
        exhaustive: Boolean(parsed.exhaustive), json: Boolean(parsed.json),
      }, process.cwd(), process.stdout)
    })
  cli
    .command('show-report [dir]', 'Serve an HTML report folder (default inferbench-report/) on localhost and print its URL')
    .option('--run <id|latest|file.json>', 'First write the report of a stored run (or a JSON report) into the folder')
    .option('--port <port>', 'Port (default: any free one)')
    .option('--host <host>', 'Address (default 127.0.0.1)')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--db <file>', 'A PerfDB file instead of the config\'s perfDb')
    .action(async (dir: string | undefined, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./show-report-command.ts')).showReportCommand(dir, pickStrings(parsed, ['run', 'port', 'host', 'config', 'db']), process.cwd(), process.stdout)
    })
  storeOptions(cli.command('roofline', 'This machine\'s peak FLOP/s and memory bandwidth measured through onnxruntime, GPU datasheet ceilings, stored jobs placed under them'))
    .option('--quick', 'Smaller micro-benchmarks (about a second)')
    .option('--threads <n>', 'onnxruntime intra-op threads for the micro-benchmarks (default: onnxruntime\'s)')
    .action(async (parsed: Record<string, unknown>) => {
      exitCode = await (await import('./roofline-command.ts')).rooflineCommand({ ...pickStrings(parsed, ['threads', 'config', 'db']), quick: Boolean(parsed.quick), json: Boolean(parsed.json) }, process.cwd(), process.stdout)
    })
  storeOptions(cli.command('show [run]', 'Where and with what a run happened: machine, versions, git, each job\'s settings and model hash (default: the latest run)'))
    .option('--job <pattern>', 'Only jobs whose suite > name or id matches this regular expression')
    .action(async (run: string | undefined, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./show-command.ts')).showCommand(run, storeFlags(parsed), process.cwd(), process.stdout)
    })
  cli
    .command('data <action> [...args]', 'Request data for pipelines: add <folder|file.jsonl> --name <name>, ls, rm <name>')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--name <name>', 'add: the name benches use (pipeline: { data: name })')
    .action(async (action: string, args: string[], parsed: Record<string, unknown>) => {
      const options = { ...parsed, ...asTyped(argv, { config: 'c', name: undefined }, []) }
      exitCode = await (await import('./data-command.ts')).dataCommand(action, args, pickStrings(options, ['name', 'config']), process.cwd(), process.stdout)
    })
  cli
    .command('model <action> [...args]', 'Models: inspect <file|generator>, add <file> | --generate <family>, ls, show, update, rm <name[@version]>')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--batch <n>', 'inspect: batch size for the input shapes (default 1)')
    .option('--param <key=value>', 'inspect/add: a generator hyper-parameter or a symbolic dimension size (repeatable)')
    .option('--generate <family>', 'add: register a generated model (family or zoo name) instead of a file')
    .option('--name <name>', 'add: the name to register under; ls: filter by name')
    .option('--task <task>', 'add/update/ls: task, e.g. image-classification')
    .option('--framework <framework>', 'add/update/ls: training framework, e.g. pytorch')
    .option('--dataset <dataset>', 'add/update: dataset, e.g. imagenet')
    .option('--tag <tag>', 'add/update: a tag (repeatable); ls: filter by tag')
    .option('--description <text>', 'add/update: a description')
    .option('--json', 'Print JSON')
    .action(async (action: string, args: string[], parsed: Record<string, unknown>) => {
      const options = {
        ...parsed,
        ...asTyped(argv, { config: 'c', name: undefined, task: undefined, framework: undefined, dataset: undefined, description: undefined, generate: undefined, tag: undefined, param: undefined }, ['tag', 'param']),
      }
      const batch = options.batch === undefined ? undefined : Number(options.batch)
      if (batch !== undefined && !(Number.isInteger(batch) && batch > 0)) {
        throw Object.assign(new Error(`--batch: expected a positive integer, received ${String(options.batch)}`), { name: 'CACError' })
      }
      exitCode = await (await import('./model-command.ts')).modelCommand(action, args, {
        ...(typeof options.config === 'string' ? { config: options.config } : {}),
        ...(batch !== undefined ? { batch } : {}),
        ...(options.param !== undefined ? { param: asStrings(options.param) } : {}),
        ...(options.tag !== undefined ? { tag: asStrings(options.tag) } : {}),
        ...pickStrings(options, ['generate', 'name', 'task', 'framework', 'dataset', 'description']),
        json: Boolean(options.json),
      }, process.cwd(), process.stdout)
    })
  cli
    .command('leader', 'Run the leader of a benchmark cluster (gRPC): queue, scheduler, results in its PerfDB')
    .option('--host <host>', 'Address to listen on (default 127.0.0.1; another needs INFERBENCH_TOKEN)')
    .option('--port <port>', 'Port (default 7700, 0 for any free one)')
    .option('--db <file>', 'PerfDB for the queue and results (default the config\'s perfDb)')
    .option('-c, --config <file>', 'Config (its plugins plan the submitted suites)')
    .option('--heartbeat <ms>', 'Heartbeat interval given to followers (default 2000)')
    .option('--tls-cert <pem>', 'Serve TLS with this certificate chain (clients set INFERBENCH_TLS_CA)')
    .option('--tls-key <pem>', 'The TLS private key')
    .action(async (parsed: Record<string, unknown>) => {
      exitCode = await (await import('./distributed-command.ts')).leaderCommand(pickStrings(parsed, ['host', 'port', 'db', 'config', 'heartbeat', 'tlsCert', 'tlsKey']), process.cwd(), process.stderr)
    })
  cli
    .command('follower', 'Run jobs for a leader: --leader host:port [--name n]')
    .option('--leader <address>', 'The leader (default INFERBENCH_LEADER or 127.0.0.1:7700)')
    .option('--name <name>', 'This follower\'s name (default the host name)')
    .option('-c, --config <file>', 'This machine\'s config (plugins, measurement.idle, cost)')
    .action(async (parsed: Record<string, unknown>) => {
      exitCode = await (await import('./distributed-command.ts')).followerCommand(pickStrings(parsed, ['leader', 'name', 'config']), process.cwd(), process.stderr)
    })
  cli
    .command('submit [...files]', 'Submit bench files to the leader: *.bench.yaml as they are, *.bench.ts as their plan (data)')
    .option('--leader <address>', 'The leader (default INFERBENCH_LEADER or 127.0.0.1:7700)')
    .option('-t, --testNamePattern <pattern>', '*.bench.ts: submit only jobs whose full name matches')
    .option('-c, --config <file>', 'Config used to plan *.bench.ts files')
    .option('--wait', 'Wait until every job ended; exit 1 unless all passed')
    .option('--json', 'Print JSON')
    .action(async (suites: string[], parsed: Record<string, unknown>) => {
      const options = { ...parsed, ...asTyped(argv, { testNamePattern: 't', config: 'c' }, []) }
      exitCode = await (await import('./distributed-command.ts')).submitCommand(suites, { ...pickStrings(options, ['leader', 'config', 'testNamePattern']), json: Boolean(parsed.json), wait: Boolean(parsed.wait) }, process.cwd(), process.stdout)
    })
  cli
    .command('status [task]', 'Tasks on the leader (one task: its jobs) and its followers')
    .option('--leader <address>', 'The leader (default INFERBENCH_LEADER or 127.0.0.1:7700)')
    .option('--json', 'Print JSON')
    .action(async (task: string | undefined, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./distributed-command.ts')).statusCommand(task, { ...pickStrings(parsed, ['leader']), json: Boolean(parsed.json) }, process.cwd(), process.stdout)
    })
  cli
    .command('cancel <task>', 'Cancel a task\'s queued and running jobs')
    .option('--leader <address>', 'The leader (default INFERBENCH_LEADER or 127.0.0.1:7700)')
    .action(async (task: string | undefined, parsed: Record<string, unknown>) => {
      exitCode = await (await import('./distributed-command.ts')).cancelCommand(task, pickStrings(parsed, ['leader']), process.cwd(), process.stdout)
    })
  cli
    .command('schedule <action>', 'Scheduler: simulate [--workers K] [--jobs N] [--policy rr-fcfs,lb-sjf,qa-sjf] [--seed s] [--trace jobs.csv] [--json]')
    .option('--workers <k>', 'Workers (default 8)')
    .option('--jobs <n>', 'Synthetic jobs (default 2400)')
    .option('--policy <names>', 'Comma-separated policies: <rr|lb|qa>-<fcfs|sjf> (default rr-fcfs,lb-sjf,qa-sjf)')
    .option('--seed <s>', 'Seed of the synthetic stream (default 1)')
    .option('--arrivals <kind>', 'batch (default: sets of --batch-size every --batch-interval seconds) or poisson (at --load)')
    .option('--load <rho>', 'Poisson arrivals: offered load, arrival rate × mean duration / workers (default 0.9)')
    .option('--batch-size <n>', 'Batch arrivals: jobs per set (default 24)')
    .option('--batch-interval <s>', 'Batch arrivals: seconds between sets (default 3600)')
    .option('--trace <file>', 'Replay a CSV of arrival,duration[,estimate] in seconds instead')
    .option('--json', 'Print JSON')
    .action(async (action: string, parsed: Record<string, unknown>) => {
      if (action !== 'simulate') throw new InferbenchError('INFERBENCH_USAGE', `schedule: unknown action '${action}'; expected simulate`)
      const options = { ...parsed, ...asTyped(argv, Object.fromEntries(['workers', 'jobs', 'policy', 'seed', 'arrivals', 'load', 'batchSize', 'batchInterval', 'trace'].map((k) => [k, undefined])), []) }
      exitCode = (await import('./schedule-command.ts')).simulateCommand({
        ...pickStrings(options, ['workers', 'jobs', 'policy', 'seed', 'arrivals', 'load', 'batchSize', 'batchInterval', 'trace']),
        json: Boolean(options.json),
      }, process.cwd(), process.stdout)
    })
  cli
    .command('serve', 'Serve ONNX models over KServe v2 HTTP and gRPC, with optional dynamic batching')
    .option('--model <path[:name]>', 'A model to serve (repeatable); its name defaults to the file name without .onnx')
    .option('--host <host>', 'Address to listen on (default 127.0.0.1)')
    .option('--http-port <port>', 'HTTP port (default 8000, 0 for any free port, off to disable)')
    .option('--grpc-port <port>', 'gRPC port (default 8001, 0 for any free port, off to disable)')
    .option('--instances <n>', 'onnxruntime sessions serving each model in parallel (default 1)')
    .option('--instance-thread <where>', 'auto (default: one instance on the main thread, several in worker threads), main or worker')
    .option('--max-batch <rows>', 'Dynamic batching: merge requests up to this many rows (0 or 1: off)')
    .option('--max-queue-delay <duration>', 'Dynamic batching: longest wait for a batch to fill (default 100us)')
    .option('--preferred-batch <sizes>', 'Dynamic batching: comma-separated sizes dispatched at once')
    .option('--intra-op-threads <n>', 'onnxruntime intra-op threads per session')
    .option('--execution-provider <names>', 'onnxruntime execution providers, comma-separated in order of preference (e.g. cuda,cpu; default cpu)')
    .option('--max-body-bytes <n>', 'Largest request accepted (default 256 MiB)')
    .option('--preprocess <json>', 'Pre-process raw requests (one BYTES input) with a processor: \'{"type":"image","options":{"size":224}}\'')
    .option('--quiet', 'Print only errors on stderr (the ready line still goes to stdout)')
    .option('--drain-timeout <duration>', 'On SIGTERM/SIGINT: longest wait for requests already received (default 30s; then 503)')
    .action(async (parsed: Record<string, unknown>) => {
      const options = {
        ...parsed,
        ...asTyped(argv, Object.fromEntries(['model', 'host', 'httpPort', 'grpcPort', 'instances', 'instanceThread', 'maxBatch', 'maxQueueDelay', 'preferredBatch',
          'intraOpThreads', 'executionProvider', 'maxBodyBytes', 'drainTimeout', 'preprocess'].map((k) => [k, undefined])), ['model']),
      }
      exitCode = await (await import('./serve-command.ts')).serveCommand({
        quiet: Boolean(options.quiet),
        model: options.model === undefined ? [] : asStrings(options.model),
        ...pickStrings(options, ['host', 'httpPort', 'grpcPort', 'instances', 'instanceThread', 'maxBatch', 'maxQueueDelay', 'preferredBatch', 'intraOpThreads', 'executionProvider', 'maxBodyBytes', 'drainTimeout', 'preprocess']),
      }, process.cwd(), process.stdout, process.stderr)
    })
  cli.help()
  cli.version(INFERBENCH_VERSION)
  try {
    cli.parse(['node', 'inferbench', ...argv], { run: false })
    await cli.runMatchedCommand()
    return exitCode
  } catch (error) {
    return reportError(error)
  }
}

function storeFlags(parsed: Record<string, unknown>): StoreFlags {
  return {
    ...pickStrings(parsed, ['config', 'db', 'limit', 'job', 'failOnRegression']),
    json: Boolean(parsed.json),
  }
}

function reportError(error: unknown): number {
  if (isInferbenchError(error)) {
    process.stderr.write(`${c.red(c.bold('inferbench:'))} ${error.message}\n`)
    return USAGE_ERROR_CODES.has(error.code) ? EXIT.usage : EXIT.failed
  }
  if (error instanceof Error && error.name === 'CACError') {
    process.stderr.write(`${c.red(c.bold('inferbench:'))} ${error.message}; see inferbench --help\n`)
    return EXIT.usage
  }
  process.stderr.write(`${c.red(c.bold('inferbench: unexpected error'))}\n${error instanceof Error ? error.stack : String(error)}\n`)
  return EXIT.failed
}

/** String flags as typed (see raw-flags.ts): one value, or every value for repeatable ones. */
function asTyped(argv: string[], flags: Record<string, string | undefined>, repeatable: string[]): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(rawStringFlags(argv, flags)).map(([k, v]) => [k, repeatable.includes(k) ? v : v[v.length - 1]!]))
}

function pickStrings(options: Record<string, unknown>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => options[k] !== undefined).map((k) => [k, String(options[k])]))
}

function asStrings(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(String)
}

function bailFlag(value: unknown): number {
  if (value === true || value === '') return 1
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error(`--bail: expected a non-negative integer, received ${String(value)}`), { name: 'CACError' })
  return n
}
