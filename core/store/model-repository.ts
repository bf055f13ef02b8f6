import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { InferbenchError } from '../errors.ts'
import { sha256 } from '../hash.ts'

/** The input/output signature of a model: names, element types and shapes (symbolic dims as names). */
export interface ModelSignature {
  inputs: Array<{ name: string; type: string; shape: Array<number | string> }>
  outputs: Array<{ name: string; type: string; shape: Array<number | string> }>
}

export interface ModelMetadata {
  task?: string
  framework?: string
  dataset?: string
  tags?: string[]
  description?: string
  signature?: ModelSignature
}

export interface ModelRecord extends ModelMetadata {
  name: string
  version: number
  sha256: string
  size: number
  /** 'file' (registered from a file) or 'generate' (from a generator spec, kept in `spec`). */
  source: 'file' | 'generate'
  spec?: { family: string; params: Record<string, unknown> }
  createdAt: string
  updatedAt: string
}

export interface ModelQuery {
  name?: string
  tag?: string
  task?: string
  framework?: string
}

/** Checks that a backend can load the model and returns its signature; throws with the reason otherwise. */
export type ModelValidator = (path: string) => Promise<ModelSignature>

interface Row {
  name: string
  version: number
  sha256: string
  size: number
  source: 'file' | 'generate'
  spec: string | null
  task: string | null
  framework: string | null
  dataset: string | null
  tags: string
  description: string | null
  signature: string | null
  created_at: string
  updated_at: string
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS models (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('file', 'generate')),
  spec TEXT,
  task TEXT,
  framework TEXT,
  dataset TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  description TEXT,
  signature TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE INDEX IF NOT EXISTS models_sha256 ON models (sha256);
`

/**
 * The model repository (the paper's MongoDB + GridFS, embedded): metadata and versions in
 * SQLite, the bytes in content-addressed files beside it. Every read checks the sha256.
 */
export class ModelRepository {
  private readonly db: Database.Database

  constructor(readonly dir: string, private readonly validate?: ModelValidator) {
    mkdirSync(join(dir, 'blobs'), { recursive: true })
    this.db = new Database(join(dir, 'models.sqlite'))
    this.db.pragma('journal_mode = WAL')
    // Concurrent registrations from several processes wait for the write lock instead of failing.
    this.db.pragma('busy_timeout = 10000')
    this.db.exec(SCHEMA)
  }

  close(): void {
    this.db.close()
  }

  /** Registers bytes under `name` as its next version. Refused when the validator cannot load them. */
  async register(name: string, bytes: Uint8Array, options: ModelMetadata & { spec?: ModelRecord['spec'] } = {}): Promise<ModelRecord> {
    checkName(name)
    const digest = sha256(bytes)
    const blob = this.blobPath(digest)
    if (!existsSync(blob) || sha256(readFileSync(blob)) !== digest) writeAtomically(blob, bytes)
    let signature = options.signature
    if (this.validate) {
      try {
        signature = await this.validate(blob)
      } catch (error) {
        this.removeBlobIfUnused(digest)
        throw new InferbenchError('INFERBENCH_MODEL_UNLOADABLE',
          `model '${name}' was not registered: ${(error as Error).message}`, { cause: error })
      }
    }
    const now = new Date().toISOString()
    // IMMEDIATE takes the write lock before reading the last version: two registrations never get the same number.
    const insert = this.db.transaction(() => {
      const last = this.db.prepare('SELECT MAX(version) AS v FROM models WHERE name = ?').get(name) as { v: number | null }
      const version = (last.v ?? 0) + 1
      this.db.prepare(`INSERT INTO models (name, version, sha256, size, source, spec, task, framework, dataset, tags, description, signature, created_at, updated_at)
        VALUES (@name, @version, @sha256, @size, @source, @spec, @task, @framework, @dataset, @tags, @description, @signature, @now, @now)`).run({
        name, version, sha256: digest, size: bytes.length, source: options.spec ? 'generate' : 'file',
        spec: options.spec ? JSON.stringify(options.spec) : null, task: options.task ?? null, framework: options.framework ?? null,
        dataset: options.dataset ?? null, tags: JSON.stringify(options.tags ?? []), description: options.description ?? null,
        signature: signature ? JSON.stringify(signature) : null, now,
      })
      return version
    })
    const version = insert.immediate()
    return this.get(`${name}@${version}`)
  }

  /** 'name' (latest version) or 'name@3'. */
  get(ref: string): ModelRecord {
    const { name, version } = parseRef(ref)
    const row = (version === undefined
      ? this.db.prepare('SELECT * FROM models WHERE name = ? ORDER BY version DESC LIMIT 1').get(name)
      : this.db.prepare('SELECT * FROM models WHERE name = ? AND version = ?').get(name, version)) as Row | undefined
    if (!row) {
      const versions = this.versions(name)
      throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', versions.length
        ? `model '${name}' has no version ${version}; versions: ${versions.join(', ')}`
        : `no model named '${name}' in the repository at ${this.dir}`)
    }
    return fromRow(row)
  }

  /** The record and its bytes; the bytes' sha256 is checked against the record. */
  read(ref: string): { record: ModelRecord; bytes: Uint8Array; path: string } {
    const record = this.get(ref)
    const path = this.blobPath(record.sha256)
    let bytes: Uint8Array
    try {
      bytes = readFileSync(path)
    } catch (error) {
      throw new InferbenchError('INFERBENCH_MODEL_NOT_FOUND', `model ${record.name}@${record.version}: its file ${path} is missing`, { cause: error })
    }
    const actual = sha256(bytes)
    if (actual !== record.sha256) {
      throw new InferbenchError('INFERBENCH_MODEL_CORRUPT',
        `model ${record.name}@${record.version}: ${path} is corrupt (sha256 ${actual.slice(0, 12)}…, expected ${record.sha256.slice(0, 12)}…); register it again`)
    }
    return { record, bytes, path }
  }

  versions(name: string): number[] {
    return (this.db.prepare('SELECT version FROM models WHERE name = ? ORDER BY version').all(name) as Array<{ version: number }>).map((r) => r.version)
  }

  search(query: ModelQuery = {}): ModelRecord[] {
    const where: string[] = []
    const args: Record<string, string> = {}
    if (query.name) { where.push(`name LIKE @name ESCAPE '\\'`); args.name = `%${query.name.replace(/[\\%_]/g, '\\$&')}%` }
    if (query.task) { where.push('task = @task'); args.task = query.task }
    if (query.framework) { where.push('framework = @framework'); args.framework = query.framework }
    if (query.tag) { where.push('EXISTS (SELECT 1 FROM json_each(models.tags) WHERE value = @tag)'); args.tag = query.tag }
    const sql = `SELECT * FROM models ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY name, version`
    return (this.db.prepare(sql).all(args) as Row[]).map(fromRow)
  }

  /** Updates metadata of a version (the latest when the ref names none). */
  update(ref: string, changes: ModelMetadata): ModelRecord {
    const record = this.get(ref)
    const next = { ...record, ...stripUndefined(changes) }
    this.db.prepare(`UPDATE models SET task = ?, framework = ?, dataset = ?, tags = ?, description = ?, signature = ?, updated_at = ?
      WHERE name = ? AND version = ?`).run(
      next.task ?? null, next.framework ?? null, next.dataset ?? null, JSON.stringify(next.tags ?? []), next.description ?? null,
      next.signature ? JSON.stringify(next.signature) : null, new Date().toISOString(), record.name, record.version,
    )
    return this.get(`${record.name}@${record.version}`)
  }

  /** Deletes one version ('name@2') or every version ('name'); returns what was deleted. */
  remove(ref: string): ModelRecord[] {
    const { name, version } = parseRef(ref)
    const doomed = version === undefined ? this.search({}).filter((r) => r.name === name) : [this.get(ref)]
    if (doomed.length === 0) this.get(ref)
    const del = this.db.transaction(() => {
      for (const r of doomed) this.db.prepare('DELETE FROM models WHERE name = ? AND version = ?').run(r.name, r.version)
    })
    del.immediate()
    for (const digest of new Set(doomed.map((r) => r.sha256))) this.removeBlobIfUnused(digest)
    return doomed
  }

  blobPath(digest: string): string {
    return join(this.dir, 'blobs', digest.slice(0, 2), `${digest}.onnx`)
  }

  private removeBlobIfUnused(digest: string): void {
    const used = this.db.prepare('SELECT 1 FROM models WHERE sha256 = ? LIMIT 1').get(digest)
    if (!used) rmSync(this.blobPath(digest), { force: true })
  }
}

function parseRef(ref: string): { name: string; version?: number } {
  const at = ref.lastIndexOf('@')
  if (at <= 0) return { name: ref }
  const version = Number(ref.slice(at + 1))
  if (!Number.isInteger(version) || version < 1) {
    throw new InferbenchError('INFERBENCH_USAGE', `model reference '${ref}': expected 'name' or 'name@<version>' with a version of 1 or more`)
  }
  return { name: ref.slice(0, at), version }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new InferbenchError('INFERBENCH_USAGE', `model name '${name}': expected letters, digits, '.', '_' or '-' (up to 128), starting with a letter or digit`)
  }
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  writeFileSync(tmp, bytes)
  renameSync(tmp, path)
}

function fromRow(row: Row): ModelRecord {
  return {
    name: row.name, version: row.version, sha256: row.sha256, size: row.size, source: row.source,
    ...(row.spec ? { spec: JSON.parse(row.spec) as ModelRecord['spec'] } : {}),
    ...(row.task ? { task: row.task } : {}), ...(row.framework ? { framework: row.framework } : {}),
    ...(row.dataset ? { dataset: row.dataset } : {}), tags: JSON.parse(row.tags) as string[],
    ...(row.description ? { description: row.description } : {}),
    ...(row.signature ? { signature: JSON.parse(row.signature) as ModelSignature } : {}),
    createdAt: row.created_at, updatedAt: row.updated_at,
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}
