import { connect, createServer, type Socket } from 'node:net'
import { seededRng, type Rng } from '../../core/plugin-api.ts'
import type { LinkProfile } from './profiles.ts'

/**
 * A userspace TCP proxy on 127.0.0.1 that makes a loopback connection behave like `profile`: each
 * direction delays every chunk by the one-way delay (plus jitter, never reordering), serialises
 * chunks at the direction's bandwidth (a chunk leaves when the link has sent the ones before it),
 * and holds a "lost" chunk one more round trip (TCP's retransmission, as the receiver sees it).
 * No privileges needed; `tc netem` in a network namespace does the same in the kernel.
 */
export async function startLinkProxy(target: { host: string; port: number }, profile: LinkProfile, seed = 1): Promise<{ port: number; close(): Promise<void> }> {
  const rng = seededRng(seed)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client)
    sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    pipeThroughLink(client, upstream, profile.delayMs, profile.jitterMs, profile.upBps, profile.loss, rng)
    pipeThroughLink(upstream, client, profile.delayMs, profile.jitterMs, profile.downBps, profile.loss, rng)
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream) }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    }),
  }
}

/**
 * One direction of the link: delay, jitter (order kept), bandwidth, retransmissions. Chunks wait
 * in one FIFO drained by one timer: a timer per chunk let a chunk due within the next millisecond
 * (sent on the next event-loop turn) overtake an earlier one whose timer had not fired yet, and
 * the reordered bytes broke the HTTP stream (seen as a stalled connection over lte).
 */
function pipeThroughLink(from: Socket, to: Socket, delayMs: number, jitterMs: number, bps: number, loss: number, rng: Rng): void {
  let linkFreeAt = 0 // when the link has finished serialising what it was given
  let lastDelivery = 0 // deliveries never overtake each other
  const queue: Array<{ at: number; chunk: Buffer }> = []
  let head = 0
  let scheduled = false
  let ended = false
  const drain = () => {
    scheduled = false
    const now = performance.now()
    // Node's timers wait at least 1 ms: what is due within it goes now, or a sub-millisecond
    // link (a LAN) would add a millisecond each way.
    while (head < queue.length && queue[head]!.at - now < 1) {
      const { chunk } = queue[head++]!
      if (!to.destroyed) to.write(chunk)
    }
    if (head === queue.length) {
      queue.length = 0
      head = 0
      if (ended && !to.destroyed) to.end()
      return
    }
    schedule()
  }
  const schedule = () => {
    if (scheduled || head === queue.length) return
    scheduled = true
    const wait = queue[head]!.at - performance.now()
    if (wait < 1) setImmediate(drain)
    else setTimeout(drain, wait)
  }
  from.on('data', (chunk: Buffer) => {
    const now = performance.now()
    const sendEnd = Math.max(now, linkFreeAt) + (chunk.length * 8 * 1000) / bps
    linkFreeAt = sendEnd
    const jitter = jitterMs > 0 ? gaussian(rng) * jitterMs : 0
    const retransmit = loss > 0 && rng() < loss ? 2 * delayMs : 0
    const at = Math.max(sendEnd + Math.max(0, delayMs + jitter) + retransmit, lastDelivery)
    lastDelivery = at
    queue.push({ at, chunk })
    schedule()
  })
  from.on('end', () => {
    ended = true
    if (head === queue.length && !scheduled && !to.destroyed) to.end()
  })
}

/** A standard normal draw (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}
