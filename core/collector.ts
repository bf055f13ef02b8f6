import { InferbenchError } from './errors.ts'
import type { BenchNode, SuiteNode } from './tree.ts'

/**
 * Collection state while a bench file is imported: `describe` and `bench` push nodes onto the
 * innermost open suite. Kept on globalThis so that a bench file importing 'inferbench' through a
 * symlinked or duplicated copy of the package still registers with the runner that loads it.
 */
interface CollectorState {
  stack: SuiteNode[]
  file: string | undefined
}

const KEY = Symbol.for('inferbench.collector')
const state: CollectorState = ((globalThis as Record<symbol, CollectorState>)[KEY] ??= { stack: [], file: undefined })

export function currentBenchFile(): string | undefined {
  return state.file
}

export function currentSuite(what: string): SuiteNode {
  const suite = state.stack.at(-1)
  if (!suite) {
    throw new InferbenchError(
      'INFERBENCH_BENCH_INVALID',
      `${what} was called outside a bench file being collected; bench files are loaded by the inferbench CLI ('npx inferbench')`,
    )
  }
  return suite
}

export function addChild(node: SuiteNode | BenchNode): void {
  currentSuite(node.type === 'suite' ? 'describe()' : 'bench()').children.push(node)
}

/** Runs `body` with `suite` as the innermost open suite. */
export function withSuite(suite: SuiteNode, body: () => void): void {
  state.stack.push(suite)
  try {
    body()
  } finally {
    state.stack.pop()
  }
}

/** Imports one bench file and returns its root suite (the file itself). */
export async function collectFile(file: string, load: () => Promise<unknown>): Promise<SuiteNode> {
  const root: SuiteNode = {
    type: 'suite', name: '', file, mode: 'run', options: {}, children: [], beforeAll: [], afterAll: [],
  }
  const previous = { stack: state.stack, file: state.file }
  state.stack = [root]
  state.file = file
  try {
    await load()
  } finally {
    state.stack = previous.stack
    state.file = previous.file
  }
  return root
}
