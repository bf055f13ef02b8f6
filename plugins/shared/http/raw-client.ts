import net from 'node:net'

export interface RawResponse {
  status: number
  body: Buffer
  /** The status line and headers, undecoded; read one with headerValue(). */
  head: Buffer
  /** How long the request waited for a free connection (every one busy at the cap), µs. */
  queuedUs: number
}

/**
 * One header's value from a response head (case-insensitive name), or undefined. The all
 * lower-case spelling is looked up in the bytes first; other spellings fall back to decoding.
 */
export function headerValue(head: Buffer, name: string): string | undefined {
  const needle = `\r\n${name.toLowerCase()}:`
  const direct = head.indexOf(needle, 0, 'latin1')
  if (direct >= 0) {
    const end = head.indexOf('\r\n', direct + needle.length, 'latin1')
    return head.toString('latin1', direct + needle.length, end < 0 ? head.length : end).trim()
  }
  const text = head.toString('latin1')
  const at = text.toLowerCase().indexOf(`\r\n${name.toLowerCase()}:`)
  if (at < 0) return undefined
  const start = at + name.length + 3
  const end = text.indexOf('\r\n', start)
  return text.slice(start, end < 0 ? undefined : end).trim()
}

interface Waiter {
  resolve(response: RawResponse): void
  reject(error: Error): void
  /** performance.now() when it started waiting for a connection; 0 when it got one at once. */
  queuedAt: number
  queuedUs: number
}

const CRLFCRLF = Buffer.from('\r\n\r\n')

/**
 * A minimal HTTP/1.1 keep-alive client for load generation, in the manner of autocannon: the
 * request is encoded once and written as is; responses are framed by Content-Length or chunked
 * encoding and parsed only for the status line and framing headers. No TLS, no pipelining, no
 * compression. It exists because the per-request cost of a general-purpose client is a visible
 * share of what a fast endpoint takes (see bench/self/loadgen-vs-autocannon.bench.ts).
 */
export class RawHttpClient {
  private readonly idle: Connection[] = []
  private readonly waiting: Array<{ request: Buffer; waiter: Waiter }> = []
  private open = 0
  private closed = false

  constructor(private readonly host: string, private readonly port: number, private readonly maxConnections: number) {}

  /** Sends encoded request bytes (see encodeRequest) on a free keep-alive connection. */
  send(request: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, queuedAt: 0, queuedUs: 0 }
      const connection = this.idle.pop()
      if (connection) connection.send(request, waiter)
      else if (this.open < this.maxConnections) this.connect().send(request, waiter)
      else {
        waiter.queuedAt = performance.now()
        this.waiting.push({ request, waiter })
      }
    })
  }

  close(): void {
    this.closed = true
    for (const c of this.idle.splice(0)) c.destroy()
    for (const { waiter } of this.waiting.splice(0)) waiter.reject(new Error('client closed'))
  }

  private connect(): Connection {
    this.open++
    return new Connection(net.connect({ host: this.host, port: this.port, noDelay: true }), {
      done: (c) => {
        const next = this.waiting.shift()
        if (next) c.send(next.request, next.waiter)
        else if (this.closed) c.destroy()
        else this.idle.push(c)
      },
      lost: (c) => {
        this.open--
        const i = this.idle.indexOf(c)
        if (i >= 0) this.idle.splice(i, 1)
        const next = this.closed ? undefined : this.waiting.shift()
        if (next) this.connect().send(next.request, next.waiter)
      },
    })
  }
}

class Connection {
  private buffer: Buffer = Buffer.alloc(0)
  private waiter: Waiter | undefined
  private dead = false

  constructor(private readonly socket: net.Socket, private readonly pool: { done(c: Connection): void; lost(c: Connection): void }) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (error) => this.fail(error))
    socket.on('close', () => this.fail(new Error('connection closed by the server')))
  }

  send(request: Buffer, waiter: Waiter): void {
    if (waiter.queuedAt > 0) waiter.queuedUs = Math.round((performance.now() - waiter.queuedAt) * 1000)
    this.waiter = waiter
    this.socket.write(request)
  }

  destroy(): void {
    this.socket.destroy()
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
    const response = parseResponse(this.buffer)
    if (!response) return
    this.buffer = this.buffer.subarray(response.consumed)
    const waiter = this.waiter!
    this.waiter = undefined
    if (response.close) {
      this.dead = true
      this.socket.destroy()
      this.pool.lost(this)
    } else {
      this.pool.done(this)
    }
    waiter.resolve({ status: response.status, body: response.body, head: response.head, queuedUs: waiter.queuedUs })
  }

  private fail(error: Error): void {
    if (this.dead) return
    this.dead = true
    const waiter = this.waiter
    this.waiter = undefined
    this.pool.lost(this)
    waiter?.reject(error)
  }
}

/** One complete response at the start of `data`, or undefined when more bytes are needed. */
export function parseResponse(data: Buffer): (Omit<RawResponse, 'queuedUs'> & { consumed: number; close: boolean }) | undefined {
  const headerEnd = data.indexOf(CRLFCRLF)
  if (headerEnd < 0) return undefined
  // "HTTP/1.1 200 ...": the status code is bytes 9-11.
  const status = (data[9]! - 48) * 100 + (data[10]! - 48) * 10 + (data[11]! - 48)
  const { length, chunked, close } = framing(data, headerEnd)
  const bodyStart = headerEnd + 4
  const head = data.subarray(0, headerEnd)
  if (chunked) return parseChunked(data, bodyStart, status, close, head)
  if (data.length < bodyStart + length) return undefined
  return { status, head, body: data.subarray(bodyStart, bodyStart + length), consumed: bodyStart + length, close }
}

/**
 * The framing headers. Servers write header names in one of two spellings in practice
 * ('Content-Length', 'content-length'); those are found without decoding the header block,
 * anything else falls back to a case-insensitive scan.
 */
function framing(data: Buffer, headerEnd: number): { length: number; chunked: boolean; close: boolean } {
  let at = find(data, headerEnd, CONTENT_LENGTH)
  if (at >= 0) {
    let length = 0
    for (let i = at; i < headerEnd; i++) {
      const c = data[i]!
      if (c === 32) continue
      if (c < 48 || c > 57) break
      length = length * 10 + (c - 48)
    }
    return { length, chunked: false, close: find(data, headerEnd, CONNECTION_CLOSE) >= 0 }
  }
  at = find(data, headerEnd, CHUNKED)
  if (at >= 0) return { length: 0, chunked: true, close: find(data, headerEnd, CONNECTION_CLOSE) >= 0 }
  const head = data.toString('latin1', 0, headerEnd).toLowerCase()
  const match = /\r\ncontent-length:\s*(\d+)/.exec(head)
  return {
    length: match ? Number(match[1]) : 0,
    chunked: /\r\ntransfer-encoding:[^\r]*chunked/.test(head),
    close: /\r\nconnection:\s*close/.test(head),
  }
}

const spellings = (text: string) => [Buffer.from(text, 'latin1'), Buffer.from(text.toLowerCase(), 'latin1')]
const CONTENT_LENGTH = spellings('\r\nContent-Length:')
const CHUNKED = spellings('\r\nTransfer-Encoding: chunked')
const CONNECTION_CLOSE = spellings('\r\nConnection: close')

/** Offset just past the first spelling found before `end`, or -1. */
function find(data: Buffer, end: number, needles: Buffer[]): number {
  for (const needle of needles) {
    const at = data.indexOf(needle)
    if (at >= 0 && at < end) return at + needle.length
  }
  return -1
}

function parseChunked(data: Buffer, start: number, status: number, close: boolean, head: Buffer) {
  const parts: Buffer[] = []
  let at = start
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at)
    if (lineEnd < 0) return undefined
    const size = parseInt(data.toString('latin1', at, lineEnd), 16)
    if (Number.isNaN(size)) throw new Error('malformed chunked response')
    const chunkStart = lineEnd + 2
    if (size === 0) {
      // Trailers (usually none) end with an empty line.
      const end = data.indexOf(CRLFCRLF, lineEnd)
      if (end < 0) {
        if (data.length >= chunkStart + 2 && data.toString('latin1', chunkStart, chunkStart + 2) === '\r\n') {
          return { status, head, body: Buffer.concat(parts), consumed: chunkStart + 2, close }
        }
        return undefined
      }
      return { status, head, body: Buffer.concat(parts), consumed: end + 4, close }
    }
    if (data.length < chunkStart + size + 2) return undefined
    parts.push(data.subarray(chunkStart, chunkStart + size))
    at = chunkStart + size + 2
  }
}

/** The request bytes for method, URL, optional body and extra headers: encoded once, sent every time. */
export function encodeRequest(url: URL, method: string, body?: string | Buffer, contentType?: string, headers: Record<string, string> = {}): Buffer {
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, 'Connection: keep-alive']
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
  if (payload) lines.push(`Content-Type: ${contentType ?? 'application/json'}`, `Content-Length: ${payload.length}`)
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  return payload ? Buffer.concat([head, payload]) : head
}
