import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { textPreprocess } from '../../../plugins/processors/index.ts'

const ids = (a: BigInt64Array) => Array.from(a, Number)

describe('text pre-processing (WordPiece, bert-base-uncased)', () => {
  it('tokenises known sentences to bert-base-uncased ids, with [CLS]/[SEP], mask and padding', () => {
    const tokenize = textPreprocess({ seqLen: 8 })
    // Ids as Hugging Face's bert-base-uncased tokenizer gives them.
    const hello = tokenize('Hello, world!')
    expect(ids(hello.inputIds)).toEqual([101, 7592, 1010, 2088, 999, 102, 0, 0])
    expect(ids(hello.attentionMask)).toEqual([1, 1, 1, 1, 1, 1, 0, 0])
    expect(ids(hello.tokenTypeIds)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    expect(ids(tokenize('i like strawberries').inputIds)).toEqual([101, 1045, 2066, 13137, 20968, 102, 0, 0]) // straw ##berries
    expect(ids(tokenize('unaffable').inputIds).slice(0, 5)).toEqual([101, 14477, 20961, 3468, 102]) // una ##ffa ##ble
    // Accents stripped and lower-cased (uncased model): Héllo → hello.
    expect(ids(tokenize('Héllo').inputIds).slice(0, 3)).toEqual([101, 7592, 102])
  })

  it('truncates a long text to seqLen and keeps [SEP] last', () => {
    const long = textPreprocess({ seqLen: 6 })('the quick brown fox jumps over the lazy dog')
    expect(long.length).toBe(11)
    expect(ids(long.inputIds)).toEqual([101, 1996, 4248, 2829, 4419, 102])
    expect(ids(long.attentionMask)).toEqual([1, 1, 1, 1, 1, 1])
  })

  it('reads a vocab.txt of its own, and says when it is not a BERT vocabulary', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferbench-vocab-'))
    writeFileSync(join(dir, 'vocab.txt'), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'cat', '##s', 'dog'].join('\n'))
    expect(ids(textPreprocess({ seqLen: 6, vocab: join(dir, 'vocab.txt') })('cats dog bird').inputIds)).toEqual([2, 4, 5, 6, 1, 3])
    writeFileSync(join(dir, 'bad.txt'), 'a\nb\n')
    expect(() => textPreprocess({ vocab: join(dir, 'bad.txt') })).toThrow(/no \[CLS\] token: not a BERT/)
  })
})
