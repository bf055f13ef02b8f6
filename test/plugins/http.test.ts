import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobSignals } from '../helpers/job-signals.ts'
import { createRegistry } from '../../core/plugin.ts'
import { httpBackend } from '../../plugins/http/index.ts'
import { RawHttpClient, encodeRequest, headerValue, parseResponse } from '../../plugins/shared/http/raw-client.ts'

let server: http.Server
let port = 0
const seen: string[] = []
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`)
      if (req.url === '/chunked') {
        res.write('hel')
        res.write('lo')
        res.end()
      } else if (req.url === '/missing') {
        res.writeHead(404).end('nope')
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 20)
      } else if (req.url === '/close') {
        res.writeHead(200, { connection: 'close' }).end('bye')
      } else {
        res.end(`echo:${body}`)
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
})

describe('raw HTTP/1.1 client', () => {
  it('frames Content-Length and chunked responses, reuses connections, reconnects after Connection: close', async () => {
    const url = (path: string) => new URL(`http://127.0.0.1:${port}${path}`)
    const post = new RawHttpClient('127.0.0.1', port, 2)
    const request = encodeRequest(url('/echo'), 'POST', '{"x":1}')
    const answers = await Promise.all(Array.from({ length: 20 }, () => post.send(request)))
    expect(answers.every((a) => a.status === 200 && a.body.toString() === 'echo:{"x":1}')).toBe(true)
    post.close()
    const chunked = new RawHttpClient('127.0.0.1', port, 1)
    const get = encodeRequest(url('/chunked'), 'GET')
    expect((await chunked.send(get)).body.toString()).toBe('hello')
    expect(headerValue((await chunked.send(get)).head, 'transfer-encoding')).toBe('chunked')
    chunked.close()
    const closing = new RawHttpClient('127.0.0.1', port, 1)
    for (let i = 0; i < 3; i++) expect((await closing.send(encodeRequest(url('/close'), 'GET'))).body.toString()).toBe('bye')
    closing.close()
  })

  it('parses lower-case framing headers and waits for the whole body', () => {
    const full = Buffer.from('HTTP/1.1 201 Created\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhelloHTTP/1.1')
    expect(parseResponse(full)).toMatchObject({ status: 201, consumed: full.length - 8, close: true })
    expect(parseResponse(full)!.body.toString()).toBe('hello')
    expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel'))).toBeUndefined()
    expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\nX-Odd-Case: 1\r\nCONTENT-LENGTH: 2\r\n\r\nok'))!.body.toString()).toBe('ok')
  })

  it('rejects when the server drops the connection mid-request', async () => {
    const rude = net.createServer((socket) => socket.once('data', () => socket.destroy()))
    await new Promise<void>((r) => rude.listen(0, '127.0.0.1', r))
    const rudePort = (rude.address() as AddressInfo).port
    const client = new RawHttpClient('127.0.0.1', rudePort, 1)
    await expect(client.send(encodeRequest(new URL(`http://127.0.0.1:${rudePort}/`), 'GET'))).rejects.toThrow(/connection closed by the server/)
    client.close()
    await new Promise<void>((r) => rude.close(() => r()))
  })
})

describe('http backend', () => {
  const backend = createRegistry([httpBackend()]).backend('http')
  it('sends the prepared request and fails on an unexpected status', async () => {
    const ok = await backend({ ...jobSignals(), jobId: 'h', batch: 1, cacheDir: '/tmp', params: { url: `http://127.0.0.1:${port}/predict`, method: 'POST', body: '{"a":2}' } })
    await ok.infer()
    await ok.close()
    expect(seen).toContain('POST /predict {"a":2}')
    const missing = await backend({ ...jobSignals(), jobId: 'h', batch: 1, cacheDir: '/tmp', params: { url: `http://127.0.0.1:${port}/missing` } })
    await expect(missing.infer()).rejects.toThrow(/HTTP 404 .*\(expected 200\): nope/)
    await missing.close()
    await expect(backend({ ...jobSignals(), jobId: 'h', batch: 1, cacheDir: '/tmp', params: { url: 'https://example.test/' } })).rejects.toThrow(/expected an http:\/\/ URL/)
  })

  it('sizes its connection pool from the workload, and books a wait for a connection as client queueing', async () => {
    const url = `http://127.0.0.1:${port}/slow`
    const capped = await backend({ ...jobSignals(), jobId: 'h', batch: 1, cacheDir: '/tmp', params: { url, connections: 2 }, load: { open: true, concurrency: 1024 } })
    const answers = await Promise.all(Array.from({ length: 8 }, () => capped.infer()))
    await capped.close()
    // Two at a time, 20 ms each: six requests waited 20-60 ms for a connection.
    const queued = answers.map((a) => (a ? a.clientQueueUs ?? 0 : 0)).filter((us) => us > 0)
    expect(queued).toHaveLength(6)
    expect(Math.max(...queued)).toBeGreaterThan(50_000)
    const sized = await backend({ ...jobSignals(), jobId: 'h', batch: 1, cacheDir: '/tmp', params: { url }, load: { open: false, concurrency: 8 } })
    const started = performance.now()
    const at = await Promise.all(Array.from({ length: 8 }, () => sized.infer()))
    await sized.close()
    expect(at.every((a) => !a?.clientQueueUs)).toBe(true)
    expect(performance.now() - started).toBeLessThan(60)
  })
})
