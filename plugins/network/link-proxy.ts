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

/** One direction of the link: delay, jitter (order kept), bandwidth, retransmissions. */
function pipeThroughLink(from: Socket, to: Socket, delayMs: number, jitterMs: number, bps: number, loss: number, rng: Rng): void {
  let linkFreeAt = 0 // when the link has finished serialising what it was given
  let lastDelivery = 0 // deliveries never overtake each other
  from.on('data', (chunk: Buffer) => {
    const now = performance.now()
    const sendEnd = Math.max(now, linkFreeAt) + (chunk.length * 8 * 1000) / bps
    linkFreeAt = sendEnd
    const jitter = jitterMs > 0 ? gaussian(rng) * jitterMs : 0
    const retransmit = loss > 0 && rng() < loss ? 2 * delayMs : 0
    const at = Math.max(sendEnd + Math.max(0, delayMs + jitter) + retransmit, lastDelivery)
    lastDelivery = at
    const deliver = () => {
      if (!to.destroyed) to.write(chunk)
    }
    // Node's timers wait at least 1 ms: a sub-millisecond link (a LAN) is served on the next turn
    // of the event loop instead, or it would add a millisecond each way.
    const wait = at - now
    if (wait < 1) setImmediate(deliver)
    else setTimeout(deliver, wait)
  })
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, lastDelivery - performance.now())))
}

/** A standard normal draw (Box–Muller). */
function gaussian(rng: Rng): number {
  const u = Math.max(rng(), 1e-12)
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng())
}
