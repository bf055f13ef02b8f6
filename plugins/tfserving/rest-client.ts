import { Pool } from 'undici'
import type { SynthesisedInput } from '../shared/inputs/synthesize.ts'
import { nest } from './nest.ts'
import { waitUntilReady } from '../shared/wait-ready.ts'

export type RestFormat = 'row' | 'columnar'

/**
 * TensorFlow Serving's REST API: POST /v1/models/{m}[/versions/{v}]:predict with `instances`
 * (row format: one entry per example) or `inputs` (columnar). The body is built once.
 */
export class TfServingRestClient {
  private readonly pool: Pool
  private readonly modelPath: string

  constructor(readonly baseUrl: string, readonly modelName: string, version: number | undefined, connections: number) {
    this.pool = new Pool(baseUrl, { connections, keepAliveTimeout: 60_000 })
    this.modelPath = `/v1/models/${encodeURIComponent(modelName)}${version !== undefined ? `/versions/${version}` : ''}`
  }

  prepare(inputs: SynthesisedInput[], format: RestFormat, signatureName: string): Buffer {
    const signature = signatureName ? { signature_name: signatureName } : {}
    if (format === 'columnar') {
      return Buffer.from(JSON.stringify({ ...signature, inputs: Object.fromEntries(inputs.map((i) => [i.name, nest(i.data, i.shape)])) }))
    }
    const batch = inputs[0]?.shape[0] ?? 1
    const perExample = inputs.map((i) => ({ name: i.name, rows: nest(i.data, i.shape) as unknown[] }))
    const instances = Array.from({ length: batch }, (_, r) =>
      (inputs.length === 1 ? perExample[0]!.rows[r] : Object.fromEntries(perExample.map((p) => [p.name, p.rows[r]]))))
    return Buffer.from(JSON.stringify({ ...signature, instances }))
  }

  async predict(body: Buffer): Promise<void> {
    const res = await this.pool.request({ path: `${this.modelPath}:predict`, method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const text = await res.body.text()
    if (res.statusCode !== 200) {
      let message = text
      try { message = (JSON.parse(text) as { error?: string }).error ?? text } catch { /* not JSON: keep the text */ }
      throw new Error(`HTTP ${res.statusCode} from ${this.baseUrl}${this.modelPath}:predict: ${message.slice(0, 500)}`)
    }
  }

  /** Polls the model status until a version is AVAILABLE; gives up when `signal` aborts. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const probe = async () => {
      const res = await this.pool.request({ path: this.modelPath, method: 'GET' })
      const body = await res.body.text()
      const available = res.statusCode === 200
        && (JSON.parse(body) as { model_version_status?: Array<{ state: string }> }).model_version_status?.some((s) => s.state === 'AVAILABLE')
      return available || `HTTP ${res.statusCode}: ${body.slice(0, 200)}`
    }
    return waitUntilReady(probe, { timeoutMs, what: `${this.baseUrl}${this.modelPath}`, ...(signal ? { signal } : {}) })
  }

  close(): Promise<void> {
    return this.pool.close()
  }
}
