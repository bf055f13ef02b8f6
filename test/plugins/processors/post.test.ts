import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { softmax, topK, topKPostprocess } from '../../../plugins/processors/index.ts'

describe('post-processing', () => {
  it('softmax matches the hand-computed values and stays finite on large logits', () => {
    const p = softmax([1, 2, 3])
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)]
    const sum = e[0]! + e[1]! + e[2]!
    expect(Array.from(p)).toEqual(e.map((v) => v / sum).map((v) => expect.closeTo(v, 12)))
    expect(Array.from(softmax([1000, 1000]))).toEqual([0.5, 0.5])
  })

  it('top-k is ordered highest first, ties by lower class id', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5, 0.05], 3)).toEqual([{ classId: 1, score: 0.5 }, { classId: 3, score: 0.5 }, { classId: 2, score: 0.2 }])
    expect(topK([3, 1], 5).map((t) => t.classId)).toEqual([0, 1])
  })

  it('maps class ids to labels from a file, per row of the batch', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferbench-labels-'))
    writeFileSync(join(dir, 'labels.txt'), 'cat\ndog\nbird\n')
    const predict = topKPostprocess({ k: 2, labels: join(dir, 'labels.txt') })
    const rows = predict({ type: 'float32', dims: [2, 3], data: Float32Array.from([0, 5, 1, 9, 0, 0]) })
    expect(rows.map((r) => r.map((p) => p.label))).toEqual([['dog', 'bird'], ['cat', 'dog']])
    expect(rows[1]![0]!.score).toBeCloseTo(Math.exp(9) / (Math.exp(9) + 2), 6)
    expect(() => predict({ type: 'float32', dims: [1, 4], data: new Float32Array(4) })).toThrow(/3 labels, the model answers 4 classes/)
  })
})

describe('topK as a pipeline processor: which output holds the class scores', () => {
  it('reads the only output, or one named logits, and asks when it cannot tell', async () => {
    const { processors } = await import('../../../plugins/processors/index.ts')
    const topKProcessor = processors().processors!.topK!
    if (topKProcessor.stage !== 'post') throw new Error('topK is a post-processor')
    const io = (outputs: string[]) => ({ inputs: ['input_ids'], outputs })
    expect(topKProcessor.outputs!({}, io(['output']))).toEqual(['output'])
    expect(topKProcessor.outputs!({}, io(['last_hidden_state', 'pooler_output', 'logits']))).toEqual(['logits'])
    expect(() => topKProcessor.outputs!({}, io(['last_hidden_state', 'pooler_output']))).toThrow(/2 outputs \(last_hidden_state, pooler_output\); name the one holding the class scores with output/)
    expect(() => topKProcessor.outputs!({ output: 'scores' }, io(['logits']))).toThrow(/no output 'scores'; outputs: logits/)
  })
})
