import type { Scalar } from '../types.ts'

/** One tuning dimension: its values in order (neighbours are adjacent), and when it applies. */
export interface Dimension {
  name: string
  values: readonly Scalar[]
  /** Only configurations this holds for have the dimension (e.g. dynamic batching: server only). */
  appliesTo?: (config: Readonly<Record<string, Scalar>>) => boolean
}

export type Configuration = Record<string, Scalar>

export interface Explored {
  config: Configuration
  /** The objective (higher is better); undefined when the configuration could not be measured. */
  score: number | undefined
}

export interface SearchOptions {
  /** Spaces of at most this many configurations are searched exhaustively. */
  bruteForceLimit: number
  /** A hill-climbing move must gain at least this fraction (Triton model_analyzer stops a direction under 5%). */
  minGain: number
  /** At most this many evaluations. */
  budget: number
}

/** Every configuration of the space, each dimension only where it applies. */
export function enumerate(dimensions: readonly Dimension[]): Configuration[] {
  let configs: Configuration[] = [{}]
  for (const d of dimensions) {
    configs = configs.flatMap((c) => (d.appliesTo && !d.appliesTo(c) ? [c] : d.values.map((v) => ({ ...c, [d.name]: v }))))
  }
  return configs
}

/**
 * Explores a configuration space for the best score: exhaustively when small, else by steepest
 * ascent from the first value of every dimension — each round measures the neighbours one step
 * along each applicable dimension and moves to the best, while it gains `minGain` or more.
 * Every evaluation is kept, in the order made.
 */
export async function searchSpace(dimensions: readonly Dimension[], evaluate: (config: Configuration) => Promise<number | undefined>, options: SearchOptions): Promise<{ explored: Explored[]; best: Explored | undefined; method: 'exhaustive' | 'hill-climb' }> {
  const explored: Explored[] = []
  const seen = new Map<string, number | undefined>()
  const key = (c: Configuration) => JSON.stringify(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)))
  const score = async (c: Configuration): Promise<number | undefined> => {
    const k = key(c)
    if (seen.has(k)) return seen.get(k)
    if (explored.length >= options.budget) return undefined
    const s = await evaluate(c)
    seen.set(k, s)
    explored.push({ config: c, score: s })
    return s
  }
  const bestOf = () => explored.reduce<Explored | undefined>((b, e) => (e.score !== undefined && (b?.score === undefined || e.score > b.score) ? e : b), undefined)
  const all = enumerate(dimensions)
  if (all.length <= options.bruteForceLimit) {
    for (const c of all) await score(c)
    return { explored, best: bestOf(), method: 'exhaustive' }
  }
  let current = normalize(Object.fromEntries(dimensions.map((d) => [d.name, d.values[0]!])), dimensions)
  let currentScore = await score(current)
  for (;;) {
    const neighbours = dimensions.flatMap((d) => {
      if (d.appliesTo && !d.appliesTo(current)) return []
      const i = d.values.indexOf(current[d.name]!)
      return [i - 1, i + 1].filter((j) => j >= 0 && j < d.values.length).map((j) => normalize({ ...current, [d.name]: d.values[j]! }, dimensions))
    })
    let bestNeighbour: { config: Configuration; score: number } | undefined
    for (const n of neighbours) {
      const s = await score(n)
      if (s !== undefined && (!bestNeighbour || s > bestNeighbour.score)) bestNeighbour = { config: n, score: s }
    }
    const gains = bestNeighbour && (currentScore === undefined || bestNeighbour.score >= currentScore * (1 + options.minGain))
    if (!gains || explored.length >= options.budget) break
    current = bestNeighbour!.config
    currentScore = bestNeighbour!.score
  }
  return { explored, best: bestOf(), method: 'hill-climb' }
}

/** A configuration with the dimensions that do not apply to it taken out (and those that do, filled in). */
function normalize(config: Configuration, dimensions: readonly Dimension[]): Configuration {
  const out: Configuration = {}
  for (const d of dimensions) {
    if (d.appliesTo && !d.appliesTo(out)) continue
    out[d.name] = config[d.name] ?? d.values[0]!
  }
  return out
}
