import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import type { TensorMap } from '../../core/plugin-api.ts'
import { BYTES_PER_ELEMENT, ORT_TO_V2, decodeBytesElements, elementCount, fromJson, fromRaw, isV2Datatype, rawBytes, toJson, type V2Datatype } from '../shared/v2/datatypes.ts'
import { BadRequestError, InferenceServer, SERVER_EXTENSIONS, SERVER_NAME, UnknownModelError } from './inference-server.ts'
import type { InputTensor, ServedModel } from './served-model.ts'

/** Header naming the JSON part's length in a binary-tensor request or response (Triton's extension). */
export const HEADER_LENGTH = 'inference-header-content-length'

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/stats)?$/

interface V2InferRequest {
  id?: string
  parameters?: Record<string, unknown>
  inputs?: Array<{ name?: unknown; datatype?: unknown; shape?: unknown; parameters?: Record<string, unknown>; data?: unknown }>
  outputs?: Array<{ name: string; parameters?: Record<string, unknown> }>
}

export interface HttpFrontend {
  port: number
  /**
   * Refuses new connections (`onRefusing` says when), answers every request already received
   * (their bytes in, or coming in), closes each connection as its last answer goes out, and after `timeoutMs`
   * answers what is left with 503 and closes the rest.
   */
  drain(timeoutMs: number, onRefusing?: () => void): Promise<void>
}

interface Unanswered {
  res: http.ServerResponse
  req: http.IncomingMessage
  prev: Unanswered | undefined
  next: Unanswered | undefined
}

/**
 * The requests not answered yet, which a drain must answer. A linked list, not a Map or Set: a
 * hash table keyed by each request's response object made V8 promote the requests to the old
 * generation (3.8 KB per request under load, then a full collection every ~0.7 s; the minimal
 * reference server with such a Map added went from 0.13 to 24 MB promoted in 5 s; docs/overhead.md).
 */
class UnansweredList {
  private head: Unanswered | undefined

  add(res: http.ServerResponse, req: http.IncomingMessage): Unanswered {
    const entry: Unanswered = { res, req, prev: undefined, next: this.head }
    if (this.head) this.head.prev = entry
    this.head = entry
    return entry
  }

  remove(entry: Unanswered): void {
    if (entry.prev) entry.prev.next = entry.next
    else if (this.head === entry) this.head = entry.next
    if (entry.next) entry.next.prev = entry.prev
    entry.prev = entry.next = undefined
  }

  *[Symbol.iterator](): Generator<Unanswered> {
    // The next entry is read first: answering one (a 503) may remove it from the list.
    for (let entry = this.head; entry;) {
      const next = entry.next
      yield entry
      entry = next
    }
  }
}

/** Runs `fn` after `turns` full turns of the event loop (each with a poll phase: accepts and reads). */
function afterLoopTurns(turns: number, fn: () => void): void {
  if (turns === 0) fn()
  else setImmediate(() => afterLoopTurns(turns - 1, fn))
}

/**
 * KServe v2 over HTTP/REST: health, server and model metadata, readiness, inference with JSON
 * tensors or the binary tensor extension, Triton-style statistics, and Prometheus /metrics.
 */
/** A request's raw elements (one BYTES input) → the model's input tensors. */
export type RawPreprocess = (elements: Uint8Array[]) => Promise<TensorMap>

interface FrontendOptions {
  maxBodyBytes: number
  version: string
  preprocess?: RawPreprocess
}

export function startHttpFrontend(server: InferenceServer, options: FrontendOptions & { host: string; port: number }): Promise<HttpFrontend> {
  const unanswered = new UnansweredList()
  let draining = false
  /** Set once the drain timeout has passed: what is not answered by then gets 503. */
  let expiredAfterMs: number | undefined
  const httpServer = http.createServer((req, res) => {
    // While draining, each answer closes its connection, so the client does not send another.
    if (draining) res.shouldKeepAlive = false
    if (expiredAfterMs !== undefined) return refuseShuttingDown(req, res, expiredAfterMs)
    const entry = unanswered.add(res, req)
    res.once('close', () => unanswered.remove(entry))
    handle(server, req, res, options).catch((error: unknown) => {
      // A fault of ours, not of the request: logged here, and the client gets no internals.
      process.stderr.write(`inferbench serve: ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}\n`)
      if (!res.headersSent) sendError(res, 500, 'internal server error (the server logged the cause)')
      else res.destroy()
    })
  })
  httpServer.keepAliveTimeout = 65_000
  // A client may half-close after writing its request (`nc -N`, shutdown(SHUT_WR)): by default
  // Node then drops the request unanswered. Its server's own switch for this (not in @types/node)
  // answers first, then closes; a test holds it to that.
  ;(httpServer as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true
  let accepted = 0
  httpServer.on('connection', () => { accepted++ })

  const drain = (timeoutMs: number, onRefusing?: () => void) => new Promise<void>((resolve) => {
    draining = true
    for (const { res } of unanswered) res.shouldKeepAlive = false
    let finished = false
    let listenerClosed = false
    // Once the timeout has passed and the listener is closed, every connection has its answer
    // (or its 503) on the way; any still open after a grace period is cut.
    const cutStragglersLater = () => {
      if (expiredAfterMs !== undefined && listenerClosed) setTimeout(() => httpServer.closeAllConnections(), 1000).unref()
    }
    const timer = setTimeout(() => {
      expiredAfterMs = timeoutMs
      for (const { res, req } of unanswered) if (!res.headersSent) refuseShuttingDown(req, res, timeoutMs)
      cutStragglersLater()
    }, timeoutMs)
    const done = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      resolve()
    }
    if (!httpServer.listening) {
      httpServer.closeAllConnections()
      onRefusing?.()
      return done()
    }
    // Connections the kernel completed but the server has not accepted yet already carry
    // requests, and closing the listener would reset them. Node accepts one connection per turn
    // of the event loop, so the loop turns until two turns in a row accept nothing (past the
    // drain timeout too: those requests are then answered 503, never reset; bounded by
    // ACCEPT_BACKLOG_MS). Then the listener closes (net.Server's close: http's own close() also
    // cuts every connection it deems idle, and one whose request bytes are still unread in the
    // kernel looks idle). Two turns later those bytes have been read; what is still idle is
    // closed, and every other connection closes after its answer (keep-alive is off).
    const deadline = performance.now() + ACCEPT_BACKLOG_MS
    let quietTurns = 0
    let seen = accepted
    const closeWhenQuiet = () => {
      quietTurns = accepted === seen ? quietTurns + 1 : 0
      seen = accepted
      if (quietTurns < 2 && performance.now() < deadline) return setImmediate(closeWhenQuiet)
      net.Server.prototype.close.call(httpServer, done)
      listenerClosed = true
      onRefusing?.()
      afterLoopTurns(2, () => httpServer.closeIdleConnections())
      cutStragglersLater()
    }
    setImmediate(closeWhenQuiet)
  })
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject)
      resolve({ port: (httpServer.address() as AddressInfo).port, drain })
    })
  })
}

/** Longest a drain keeps accepting connections already queued in the kernel before it closes the listener. */
const ACCEPT_BACKLOG_MS = 10_000

/**
 * 503 for a request the drain timeout left unanswered, sent once its whole body is in: closing a
 * connection on unread bytes resets it, and the client would lose the 503 with it.
 */
function refuseShuttingDown(req: http.IncomingMessage, res: http.ServerResponse, timeoutMs: number): void {
  res.shouldKeepAlive = false
  const refuse = () => sendError(res, 503, `the server is shutting down and did not answer within the drain timeout (${timeoutMs} ms)`)
  if (req.complete) refuse()
  else {
    req.once('end', refuse)
    req.resume()
  }
}

async function handle(server: InferenceServer, req: http.IncomingMessage, res: http.ServerResponse, options: FrontendOptions): Promise<void> {
  const url = (req.url ?? '/').split('?')[0]!
  if (req.method === 'GET') {
    if (url === '/v2/health/live') return sendJson(res, 200, { live: true })
    if (url === '/v2/health/ready') return sendJson(res, server.ready ? 200 : 503, { ready: server.ready })
    if (url === '/v2') return sendJson(res, 200, { name: SERVER_NAME, version: options.version, extensions: SERVER_EXTENSIONS })
    if (url === '/metrics') {
      res.writeHead(200, { 'content-type': server.metrics.registry.contentType })
      res.end(await server.metrics.registry.metrics())
      return
    }
    if (url === '/v2/models/stats') return sendJson(res, 200, { model_stats: server.modelNames().map((m) => server.model(m).stats.snapshot()) })
  }
  const match = MODEL_PATH.exec(url)
  if (!match) return sendError(res, 404, `no route for ${req.method} ${url}`)
  const [, rawName, rawVersion, action] = match
  let name: string
  let version: string | undefined
  try {
    name = decodeURIComponent(rawName!)
    version = rawVersion === undefined ? undefined : decodeURIComponent(rawVersion)
  } catch {
    return sendError(res, 400, `malformed percent-encoding in the path ${url}`)
  }
  try {
    if (req.method === 'GET' && action === undefined) return sendJson(res, 200, metadata(server, name, version))
    if (req.method === 'GET' && action === '/ready') {
      const model = server.model(name, version)
      return sendJson(res, server.ready ? 200 : 503, { name: model.name, ready: server.ready })
    }
    if (req.method === 'GET' && action === '/stats') return sendJson(res, 200, { model_stats: [server.model(name, version).stats.snapshot()] })
    if (req.method === 'POST' && action === '/infer') {
      const model = server.model(name, version) // unknown model: 404 before reading the body
      const body = await readBody(req, options.maxBodyBytes)
      if (body === undefined) return sendError(res, 413, `request body exceeds the limit of ${options.maxBodyBytes} bytes`)
      return await infer(server, model, version, req, res, body, options.preprocess)
    }
    return sendError(res, 405, `${req.method} is not allowed on ${url}`)
  } catch (error) {
    if (error instanceof UnknownModelError) return sendError(res, 404, error.message)
    if (error instanceof BadRequestError) return sendError(res, 400, error.message)
    throw error
  }
}

function metadata(server: InferenceServer, name: string, version: string | undefined) {
  const model = server.model(name, version)
  return { name: model.name, versions: [model.version], platform: 'onnxruntime_onnx', inputs: model.inputs, outputs: model.outputs }
}

/**
 * Monotonic µs (process.hrtime): a client on this machine reads the same clock, so it can split
 * wire time into request and response. Stamped on an answer when its request sets the parameter
 * `timestamps: true`.
 */
const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

async function infer(server: InferenceServer, model: ServedModel, version: string | undefined, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, preprocess?: RawPreprocess): Promise<void> {
  const received = process.hrtime.bigint()
  const name = model.name
  const headerLength = req.headers[HEADER_LENGTH]
  const jsonLength = headerLength === undefined ? body.length : Number(headerLength)
  if (!Number.isInteger(jsonLength) || jsonLength < 0 || jsonLength > body.length) {
    throw new BadRequestError(`${HEADER_LENGTH} must be the byte length of the JSON part, an integer from 0 to the body's ${body.length} bytes; received ${JSON.stringify(headerLength)}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(body.subarray(0, jsonLength).toString('utf8'))
  } catch (error) {
    throw new BadRequestError(`request is not valid JSON: ${(error as Error).message}`)
  }
  const request = inferRequest(parsed)
  let tensors = parseInputs(request, body.subarray(jsonLength))
  if (request.outputs?.length) checkOutputNames(request.outputs, model.outputs)
  let preprocessUs: number | undefined
  const raw = tensors.find((t) => (t.datatype as string) === 'BYTES')
  if (raw) {
    if (!preprocess || tensors.length !== 1) {
      throw new BadRequestError(`input '${raw.name}' is BYTES (raw items): ${preprocess ? 'send it alone' : 'this server pre-processes nothing; start it with --preprocess, or send the model\'s tensors'}`)
    }
    const started = nowUs()
    let made: TensorMap
    try {
      made = await preprocess(raw.data as unknown as Uint8Array[])
    } catch (error) {
      throw new BadRequestError(`pre-processing failed: ${(error as Error).message}`)
    }
    tensors = Object.entries(made).map(([inputName, t]) => ({ name: inputName, datatype: ORT_TO_V2[t.type]!, shape: t.dims, data: t.data as InputTensor['data'] }))
    preprocessUs = nowUs() - started
  }
  const result = await server.infer(name, version, tensors)
  if (res.headersSent) return // answered 503 meanwhile: the drain timeout expired
  const binaryAll = request.parameters?.binary_data_output === true
  const requested = request.outputs?.length ? request.outputs : undefined
  const chunks: Uint8Array[] = []
  const outputs = result.outputs.filter((o) => !requested || requested.some((r) => r.name === o.name)).map((o) => {
    const binary = binaryAll || requested?.find((r) => r.name === o.name)?.parameters?.binary_data === true
    if (!binary) return { name: o.name, datatype: o.datatype, shape: o.shape, data: toJson(o.data) }
    const raw = rawBytes(o.data)
    chunks.push(raw)
    return { name: o.name, datatype: o.datatype, shape: o.shape, parameters: { binary_data_size: raw.byteLength } }
  })
  const header = Buffer.from(JSON.stringify({
    model_name: name, model_version: '1', ...(request.id !== undefined ? { id: request.id } : {}),
    parameters: {
      queue_us: Math.round(result.queueNs / 1000), compute_us: Math.round(result.computeNs / 1000), batch_rows: result.batchRows,
      ...(preprocessUs !== undefined ? { preprocess_us: preprocessUs } : {}),
      // Only when asked (a pipeline's client): the plain request path stays as lean as it was.
      ...(request.parameters?.timestamps === true ? { received_us: Number(received / 1000n), sent_us: nowUs() } : {}),
    },
    outputs,
  }))
  if (chunks.length === 0) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': header.length })
    res.end(header)
    return
  }
  const total = header.length + chunks.reduce((s, c) => s + c.byteLength, 0)
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, [HEADER_LENGTH]: header.length })
  // One write: separate ones can leave as separate segments, and the client waits for the last.
  res.end(Buffer.concat([header, ...chunks], total))
}

/** The request's shape checked before use: every malformed request is a 400 naming the field. */
function inferRequest(parsed: unknown): V2InferRequest {
  if (!isObject(parsed)) throw new BadRequestError(`the request must be a JSON object with 'inputs', received ${describeJson(parsed)}`)
  const request = parsed as V2InferRequest
  if (request.parameters !== undefined && !isObject(request.parameters)) throw new BadRequestError(`'parameters' must be an object, received ${describeJson(request.parameters)}`)
  if (request.outputs !== undefined) {
    if (!Array.isArray(request.outputs)) throw new BadRequestError(`'outputs' must be an array, received ${describeJson(request.outputs)}`)
    request.outputs.forEach((o, i) => {
      if (!isObject(o) || typeof o.name !== 'string') throw new BadRequestError(`outputs[${i}] must be an object with a string 'name', received ${describeJson(o)}`)
      if (o.parameters !== undefined && !isObject(o.parameters)) throw new BadRequestError(`outputs[${i}].parameters must be an object`)
    })
  }
  return request
}

/** Asking for an output the model does not have is a mistake to report, not an empty answer. */
export function checkOutputNames(requested: ReadonlyArray<{ name: string }> | undefined, outputs: ReadonlyArray<{ name: string }>): void {
  const unknown = requested?.find((r) => !outputs.some((o) => o.name === r.name))
  if (unknown) throw new BadRequestError(`unknown output '${unknown.name}'; outputs: ${outputs.map((o) => o.name).join(', ')}`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeJson(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** Inputs from JSON `data` or from the binary tail, in input order (binary tensor extension). */
export function parseInputs(request: V2InferRequest, tail: Uint8Array): InputTensor[] {
  if (!Array.isArray(request.inputs) || request.inputs.length === 0) throw new BadRequestError(`'inputs' must be a non-empty array`)
  let offset = 0
  const seen = new Set<string>()
  return request.inputs.map((input, i) => {
    if (!isObject(input)) throw new BadRequestError(`inputs[${i}] must be an object with name, datatype, shape and data, received ${describeJson(input)}`)
    const where = `inputs[${i}]${typeof input.name === 'string' ? ` ('${input.name}')` : ''}`
    if (typeof input.name !== 'string') throw new BadRequestError(`${where}: 'name' must be a string`)
    if (seen.has(input.name)) throw new BadRequestError(`${where}: input '${input.name}' is given twice`)
    seen.add(input.name)
    if (input.parameters !== undefined && !isObject(input.parameters)) throw new BadRequestError(`${where}: 'parameters' must be an object`)
    if (input.datatype === 'BYTES') {
      const bytes = parseBytesInput(input as typeof input & { name: string }, where, tail, offset)
      offset += bytes.consumed
      return bytes.tensor
    }
    if (typeof input.datatype !== 'string' || !isV2Datatype(input.datatype)) throw new BadRequestError(`${where}: unsupported datatype ${JSON.stringify(input.datatype)}`)
    if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new BadRequestError(`${where}: 'shape' must be an array of non-negative integers`)
    const shape = input.shape as number[]
    const binarySize = input.parameters?.binary_data_size
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) throw new BadRequestError(`${where}: binary_data_size must be a non-negative integer`)
      if (offset + binarySize > tail.length) {
        throw new BadRequestError(`${where}: binary payload truncated: needs ${binarySize} bytes at offset ${offset}, ${tail.length - offset} left`)
      }
      const expected = elementCount(shape) * BYTES_PER_ELEMENT[input.datatype]
      if (binarySize !== expected) throw new BadRequestError(`${where}: binary_data_size ${binarySize} does not match shape [${shape}] of ${input.datatype} (${expected} bytes)`)
      const data = fromRaw(input.datatype, tail.subarray(offset, offset + binarySize))
      offset += binarySize
      return { name: input.name, datatype: input.datatype, shape, data }
    }
    if (input.data === undefined) throw new BadRequestError(`${where}: has neither 'data' nor parameters.binary_data_size`)
    try {
      return { name: input.name, datatype: input.datatype, shape, data: fromJson(input.datatype, input.data) }
    } catch (error) {
      throw new BadRequestError(`${where}: ${(error as Error).message}`)
    }
  })
}

/**
 * A BYTES input (raw items for --preprocess): binary, as 4-byte little-endian lengths each
 * followed by the element, or JSON `data` as an array of strings. Its `data` holds the elements.
 */
function parseBytesInput(input: NonNullable<V2InferRequest['inputs']>[number] & { name: string }, where: string, tail: Uint8Array, offset: number): { tensor: InputTensor; consumed: number } {
  if (!Array.isArray(input.shape) || !input.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new BadRequestError(`${where}: 'shape' must be an array of non-negative integers`)
  const shape = input.shape as number[]
  const count = elementCount(shape)
  const size = input.parameters?.binary_data_size
  let elements: Uint8Array[]
  let consumed = 0
  if (size !== undefined) {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || offset + size > tail.length) throw new BadRequestError(`${where}: binary_data_size ${JSON.stringify(size)} does not fit the ${tail.length - offset} bytes left`)
    try {
      elements = decodeBytesElements(tail.subarray(offset, offset + size), count)
    } catch (error) {
      throw new BadRequestError(`${where}: ${(error as Error).message}`)
    }
    consumed = size
  } else {
    if (!Array.isArray(input.data) || input.data.length !== count || !input.data.every((d) => typeof d === 'string')) throw new BadRequestError(`${where}: BYTES 'data' must be an array of ${count} strings`)
    elements = (input.data as string[]).map((d) => Buffer.from(d))
  }
  return { tensor: { name: input.name, datatype: 'BYTES' as V2Datatype, shape, data: elements as unknown as InputTensor['data'] }, consumed }
}

/** The body, or undefined when it exceeds `limit` (the rest is discarded). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > limit) {
    req.resume()
    return Promise.resolve(undefined)
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) over = true
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks, size)))
    req.on('error', reject)
  })
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function sendError(res: http.ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message })
}
