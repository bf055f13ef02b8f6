import { cac } from 'cac'
import c from 'picocolors'
import { isInferbenchError } from '../core/errors.ts'
import { INFERBENCH_VERSION } from '../runners/local.ts'
import { modelCommand } from './model-command.ts'
import { EXIT, runCommand } from './run-command.ts'
import { serveCommand } from './serve-command.ts'

const USAGE_CODES = new Set(['INFERBENCH_CONFIG_INVALID', 'INFERBENCH_CONFIG_NOT_FOUND', 'INFERBENCH_BENCH_INVALID',
  'INFERBENCH_BENCH_LOAD_FAILED', 'INFERBENCH_USAGE', 'INFERBENCH_PLUGIN_CONFLICT', 'INFERBENCH_PLUGIN_MISSING',
  'INFERBENCH_MODEL_NOT_FOUND'])

export async function main(argv: string[]): Promise<number> {
  const cli = cac('inferbench')
  let exitCode: number = EXIT.ok
  cli
    .command('[...filters]', 'Run bench files (filters: parts of file paths, or paths outside include)')
    .option('-t, --testNamePattern <pattern>', 'Run only jobs whose full name matches this regular expression')
    .option('--list', 'Print the jobs and their estimated durations without running anything')
    .option('-c, --config <file>', 'Path to a config file')
    .option('--reporter <name>', 'Reporter to use: default, json, or one from a plugin (repeatable)')
    .option('--outputFile <path>', 'Write file reporters here; --outputFile.json=<path> per reporter')
    .option('--bail [n]', 'Stop after n failed or errored jobs (default 1)')
    .action(async (filters: string[], options: Record<string, unknown>) => {
      exitCode = await runCommand({
        filters,
        ...(typeof options.config === 'string' ? { config: options.config } : {}),
        list: Boolean(options.list),
        ...(options.reporter !== undefined ? { reporter: asStrings(options.reporter) } : {}),
        ...(options.outputFile !== undefined ? { outputFile: outputFileFlag(options.outputFile) } : {}),
        ...(options.bail !== undefined ? { bail: bailFlag(options.bail) } : {}),
        ...(typeof options.testNamePattern === 'string' ? { testNamePattern: options.testNamePattern } : {}),
      }, process.cwd(), process.stdout)
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
    .action(async (action: string, args: string[], options: Record<string, unknown>) => {
      const batch = options.batch === undefined ? undefined : Number(options.batch)
      if (batch !== undefined && !(Number.isInteger(batch) && batch > 0)) {
        throw Object.assign(new Error(`--batch: expected a positive integer, received ${String(options.batch)}`), { name: 'CACError' })
      }
      exitCode = await modelCommand(action, args, {
        ...(typeof options.config === 'string' ? { config: options.config } : {}),
        ...(batch !== undefined ? { batch } : {}),
        ...(options.param !== undefined ? { param: asStrings(options.param) } : {}),
        ...(options.tag !== undefined ? { tag: asStrings(options.tag) } : {}),
        ...pickStrings(options, ['generate', 'name', 'task', 'framework', 'dataset', 'description']),
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
    .option('--max-batch <rows>', 'Dynamic batching: merge requests up to this many rows (0 or 1: off)')
    .option('--max-queue-delay <duration>', 'Dynamic batching: longest wait for a batch to fill (default 100us)')
    .option('--preferred-batch <sizes>', 'Dynamic batching: comma-separated sizes dispatched at once')
    .option('--intra-op-threads <n>', 'onnxruntime intra-op threads per session')
    .option('--max-body-bytes <n>', 'Largest request accepted (default 256 MiB)')
    .action(async (options: Record<string, unknown>) => {
      exitCode = await serveCommand({
        model: options.model === undefined ? [] : asStrings(options.model),
        ...pickStrings(options, ['host', 'httpPort', 'grpcPort', 'instances', 'maxBatch', 'maxQueueDelay', 'preferredBatch', 'intraOpThreads', 'maxBodyBytes']),
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

function reportError(error: unknown): number {
  if (isInferbenchError(error)) {
    process.stderr.write(`${c.red(c.bold('inferbench:'))} ${error.message}\n`)
    return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed
  }
  if (error instanceof Error && error.name === 'CACError') {
    process.stderr.write(`${c.red(c.bold('inferbench:'))} ${error.message}; see inferbench --help\n`)
    return EXIT.usage
  }
  process.stderr.write(`${c.red(c.bold('inferbench: unexpected error'))}\n${error instanceof Error ? error.stack : String(error)}\n`)
  return EXIT.failed
}

function pickStrings(options: Record<string, unknown>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => options[k] !== undefined).map((k) => [k, String(options[k])]))
}

function asStrings(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(String)
}

function outputFileFlag(value: unknown): string | Record<string, string> {
  if (typeof value === 'string') return value
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]))
  }
  throw Object.assign(new Error(`--outputFile: expected a path or --outputFile.<reporter>=<path>`), { name: 'CACError' })
}

function bailFlag(value: unknown): number {
  if (value === true || value === '') return 1
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw Object.assign(new Error(`--bail: expected a non-negative integer, received ${String(value)}`), { name: 'CACError' })
  return n
}
