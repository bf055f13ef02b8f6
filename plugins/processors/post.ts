import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { Tensor } from '../../core/plugin-api.ts'

export const topKOptionsSchema = z.object({
  k: z.number().int().positive().default(5),
  /** A label file, one class name per line (class id = line number from 0); default: 'class <id>'. */
  labels: z.string().optional(),
  /** The model output holding the logits; default: the model's only output, or one named 'logits'. */
  output: z.string().optional(),
  /** Apply softmax first (the model answers logits); false when it already answers probabilities. */
  softmax: z.boolean().default(true),
}).strict()

export type TopKOptions = z.input<typeof topKOptionsSchema>

export interface Prediction {
  classId: number
  label: string
  score: number
}

/** Numerically stable softmax of one row (max subtracted before exp). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!
  const out = new Float64Array(logits.length)
  let sum = 0
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max)
  for (let i = 0; i < out.length; i++) out[i]! /= sum
  return out
}

/** The k largest scores, highest first (ties: lower class id first); one pass with a small sorted list. */
export function topK(scores: ArrayLike<number>, k: number): Array<{ classId: number; score: number }> {
  const best: Array<{ classId: number; score: number }> = []
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!
    if (best.length === k && score <= best[k - 1]!.score) continue
    let at = best.length
    while (at > 0 && best[at - 1]!.score < score) at--
    best.splice(at, 0, { classId: i, score })
    if (best.length > k) best.pop()
  }
  return best
}

/** Class names from a label file: one per line, blank lines kept (their ids stay in place). */
export function readLabels(path: string): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`cannot read the label file ${path}: ${(error as Error).message}`, { cause: error })
  }
  const lines = text.split(/\r?\n/)
  if (lines.at(-1) === '') lines.pop()
  return lines
}

/**
 * Classification post-processing: per row of a [batch, classes] (or [batch, …, classes], last
 * axis) logits tensor, softmax, the top `k`, and each class id's label.
 */
export function topKPostprocess(options: TopKOptions = {}): (logits: Tensor) => Prediction[][] {
  const s = topKOptionsSchema.parse(options)
  const labels = s.labels ? readLabels(s.labels) : undefined
  return (logits) => {
    if (logits.type !== 'float32' && logits.type !== 'float64') throw new Error(`expected float logits, got ${logits.type}`)
    const data = logits.data as Float32Array | Float64Array
    const classes = logits.dims.at(-1) ?? data.length
    if (labels && labels.length < classes) throw new Error(`the label file ${s.labels} has ${labels.length} labels, the model answers ${classes} classes`)
    const rows = logits.dims[0] ?? 1
    const perRow = data.length / rows
    const result: Prediction[][] = []
    for (let r = 0; r < rows; r++) {
      // A sequence output ([batch, tokens, classes]): classify from its first position ([CLS]).
      const row = data.subarray(r * perRow, r * perRow + classes)
      const scores = s.softmax ? softmax(row) : row
      result.push(topK(scores, s.k).map(({ classId, score }) => ({ classId, score, label: labels?.[classId] ?? `class ${classId}` })))
    }
    return result
  }
}
