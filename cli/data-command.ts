import c from 'picocolors'
import { loadConfig } from '../core/config.ts'
import { addDataSet, describeBad, readDataRegistry, removeDataSet } from '../core/data/user-data-sets.ts'
import { InferbenchError } from '../core/errors.ts'
import { createRegistry, type TextSink } from '../core/plugin.ts'
import { table } from '../reporters/format.ts'
import { withBuiltinPlugins } from '../runners/builtin-plugins.ts'

const ACTIONS = ['add', 'ls', 'rm'] as const

/** `inferbench data add <folder|file.jsonl> --name n`, `data ls`, `data rm <name>`. Returns the exit code. */
export async function dataCommand(action: string, args: string[], flags: { name?: string; config?: string }, cwd: string, out: TextSink): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new InferbenchError('INFERBENCH_USAGE', `data ${action}: unknown action; expected one of ${ACTIONS.join(', ')}`)
  const config = await loadConfig({ cwd, ...(flags.config ? { configFile: flags.config } : {}) })
  if (action === 'add') {
    if (args.length !== 1 || !flags.name) throw new InferbenchError('INFERBENCH_USAGE', 'data add: expected one folder or .jsonl file and --name <name>, e.g. inferbench data add ./photos --name photos')
    const builtIn = createRegistry(withBuiltinPlugins(config.plugins)).names('dataSets')
    if (builtIn.includes(flags.name)) throw new InferbenchError('INFERBENCH_USAGE', `data add: '${flags.name}' is a built-in data set; choose another --name`)
    const earlier = readDataRegistry(config.root)[flags.name]
    const { set, bad } = addDataSet(config.root, args[0]!, flags.name)
    out.write(`${c.green('✓')} data set '${set.name}': ${set.items} item${set.items === 1 ? '' : 's'} read from ${set.path}${earlier ? ` (replaces the one from ${earlier.path})` : ''}; use it as pipeline: { data: '${set.name}' }. A bench's pre-processing decodes every item before timing and names those it cannot\n`)
    if (bad.length) out.write(c.yellow(`  ${describeBad(bad, cwd)} (a bench skips them with onBadItem: 'skip', or fails on them)\n`))
    return 0
  }
  if (action === 'rm') {
    if (args.length !== 1) throw new InferbenchError('INFERBENCH_USAGE', 'data rm: expected the name of one data set')
    if (createRegistry(withBuiltinPlugins(config.plugins)).names('dataSets').includes(args[0]!)) throw new InferbenchError('INFERBENCH_USAGE', `data rm: '${args[0]}' is a built-in data set; only sets added with data add can be removed`)
    removeDataSet(config.root, args[0]!)
    out.write(`removed data set '${args[0]}' (its files are untouched)\n`)
    return 0
  }
  const builtIn = createRegistry(withBuiltinPlugins(config.plugins)).names('dataSets')
  const sets = Object.values(readDataRegistry(config.root))
  out.write(table(['name', 'kind', 'items', 'path', 'added'], [
    ...builtIn.map((name) => [name, 'built-in', '', '', '']),
    ...sets.map((s) => [s.name, s.kind, String(s.items), s.path, s.addedAt.slice(0, 10)]),
  ]) + '\n')
  return 0
}
