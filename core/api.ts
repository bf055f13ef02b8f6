import { addChild, currentBenchFile, currentSuite, withSuite } from './collector.ts'
import { InferbenchError } from './errors.ts'
import type {
  BenchNode, BenchOptions, CheckFn, FunctionBenchOptions, Hook, MatrixOptions, Mode, SuiteNode,
} from './tree.ts'

type DescribeFn = {
  (name: string, body: () => void): void
  (name: string, options: MatrixOptions, body: () => void): void
}

type BenchFn = {
  /** A serving benchmark: every matrix combination becomes a job. */
  (name: string, options: BenchOptions, check?: CheckFn): void
  /** A plain function micro-benchmark, run by tinybench (for pre/post-processing code). */
  (name: string, fn: () => unknown, options?: FunctionBenchOptions): void
}

function makeDescribe(mode: Mode): DescribeFn {
  return (name: string, optionsOrBody: MatrixOptions | (() => void), maybeBody?: () => void) => {
    const body = typeof optionsOrBody === 'function' ? optionsOrBody : maybeBody
    const options = typeof optionsOrBody === 'function' ? {} : optionsOrBody
    if (typeof body !== 'function') {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID',
        `describe('${name}') in ${currentBenchFile() ?? 'a bench file'}: expected a callback as the last argument`)
    }
    const suite: SuiteNode = {
      type: 'suite', name, file: currentSuite('describe()').file, mode, options: options ?? {},
      children: [], beforeAll: [], afterAll: [],
    }
    addChild(suite)
    withSuite(suite, () => {
      const returned = body() as unknown
      if (returned instanceof Promise) {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID',
          `describe('${name}') in ${suite.file}: the callback must be synchronous; do async set-up in beforeAll()`)
      }
    })
  }
}

function makeBench(mode: Mode): BenchFn {
  return (name: string, second: BenchOptions | (() => unknown), third?: CheckFn | FunctionBenchOptions) => {
    const file = currentSuite('bench()').file
    const node: BenchNode = { type: 'bench', name, file, mode }
    if (typeof second === 'function') {
      node.fn = second
      if (third !== undefined && typeof third !== 'object') {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID',
          `bench('${name}') in ${file}: a function benchmark takes an options object as its third argument`)
      }
      node.fnOptions = third as FunctionBenchOptions | undefined
    } else if (second !== null && typeof second === 'object') {
      node.options = second
      if (third !== undefined && typeof third !== 'function') {
        throw new InferbenchError('INFERBENCH_BENCH_INVALID',
          `bench('${name}') in ${file}: the third argument of a serving benchmark is a check function`)
      }
      node.check = third as CheckFn | undefined
    } else {
      throw new InferbenchError('INFERBENCH_BENCH_INVALID',
        `bench('${name}') in ${file}: expected an options object (serving benchmark) or a function (micro-benchmark) as the second argument`)
    }
    addChild(node)
  }
}

export const describe = Object.assign(makeDescribe('run'), {
  skip: makeDescribe('skip'),
  only: makeDescribe('only'),
})

export const bench = Object.assign(makeBench('run'), {
  skip: makeBench('skip'),
  only: makeBench('only'),
})

/** Runs once before the first job of the enclosing describe (or file). */
export function beforeAll(fn: Hook): void {
  currentSuite('beforeAll()').beforeAll.push(fn)
}

/** Runs once after the last job of the enclosing describe (or file). */
export function afterAll(fn: Hook): void {
  currentSuite('afterAll()').afterAll.push(fn)
}
