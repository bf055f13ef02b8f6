import { createServer, connect, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLinkProxy } from '../../../plugins/network/link-proxy.ts'
import { LINK_PROFILES } from '../../../plugins/network/profiles.ts'
import { runBenchmarks } from '../../../runners/node-api.ts'
import { tempProject } from '../../helpers/temp-project.ts'

/** An echo server on loopback: what comes in goes back out. */
let echo: Server
let echoPort = 0
beforeAll(async () => {
  echo = createServer((s) => s.pipe(s))
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()))
  echoPort = (echo.address() as { port: number }).port
})
afterAll(() => new Promise<void>((r) => echo.close(() => r())))

/** Round trips of one byte through `port`, one after another (ms). */
async function roundTrips(port: number, n: number): Promise<number[]> {
  const socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await new Promise<void>((r) => socket.once('connect', () => r()))
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await new Promise<void>((r) => { socket.once('data', () => r()); socket.write('x') })
    times.push(performance.now() - t0)
  }
  socket.destroy()
  return times
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('emulated network link (userspace proxy)', () => {
  it('adds the profile\'s round trip: median within 15% (and 2 ms) of twice the one-way delay', async () => {
    const link = await startLinkProxy({ host: '127.0.0.1', port: echoPort }, { delayMs: 20, jitterMs: 2, upBps: 1e9, downBps: 1e9, loss: 0, source: 'test' })
    try {
      const rtt = median(await roundTrips(link.port, 30))
      expect(Math.abs(rtt - 40)).toBeLessThan(Math.max(0.15 * 40, 2))
    } finally {
      await link.close()
    }
  })

  it('keeps the byte order under jitter and loss: a 3 MB stream comes back intact', async () => {
    // lte's jitter and retransmissions, fast enough for a test: chunks due within a millisecond
    // of each other must not overtake (the bug this guards broke HTTP answers over lte).
    const link = await startLinkProxy({ host: '127.0.0.1', port: echoPort }, { delayMs: 3, jitterMs: 2, upBps: 400e6, downBps: 400e6, loss: 0.05, source: 'test' }, 7)
    try {
      const socket = connect(link.port, '127.0.0.1')
      await new Promise<void>((r) => socket.once('connect', () => r()))
      const payload = Buffer.from(Uint32Array.from({ length: 750_000 }, (_, i) => i).buffer)
      const chunks: Buffer[] = []
      let received = 0
      await new Promise<void>((r) => {
        socket.on('data', (d: Buffer) => { chunks.push(d); received += d.length; if (received >= payload.length) r() })
        // Many writes, so many chunks are in flight on the link at once.
        for (let offset = 0; offset < payload.length; offset += 16_384) socket.write(payload.subarray(offset, offset + 16_384))
      })
      socket.destroy()
      expect(Buffer.concat(chunks).equals(payload)).toBe(true)
    } finally {
      await link.close()
    }
  })

  it('caps a bulk transfer near the profile\'s bandwidth', async () => {
    // 8 Mbit/s up: 400 KB take ~400 ms on the link; loopback alone takes ~1 ms.
    const link = await startLinkProxy({ host: '127.0.0.1', port: echoPort }, { delayMs: 1, jitterMs: 0, upBps: 8e6, downBps: 1e9, loss: 0, source: 'test' })
    try {
      const socket = connect(link.port, '127.0.0.1')
      await new Promise<void>((r) => socket.once('connect', () => r()))
      const payload = Buffer.alloc(400_000, 1)
      const t0 = performance.now()
      let received = 0
      await new Promise<void>((r) => { socket.on('data', (d: Buffer) => { received += d.length; if (received >= payload.length) r() }); socket.write(payload) })
      const seconds = (performance.now() - t0) / 1000
      socket.destroy()
      const bps = (payload.length * 8) / seconds
      expect(bps).toBeLessThan(8e6 * 1.1)
      expect(bps).toBeGreaterThan(8e6 * 0.7)
    } finally {
      await link.close()
    }
  })

  it('is a matrix axis: lte adds its round trip to a server job\'s latency; an in-process backend or unknown link is refused', async () => {
    const project = tempProject({
      'inferbench.config.ts': "export default { perfDb: false, reporters: [], measurement: { minDuration: '200ms', minRequests: 10 } }\n",
      'net.bench.ts': `import { bench, model, workload } from 'inferbench'
bench('net', { model: model.generate('fc', { layers: 1, width: 16 }), backend: 'server', network: ['lan', 'lte'], warmup: '200ms', workload: workload.closed({ duration: '1s' }) })
`,
      'bad.bench.ts': "import { bench, model } from 'inferbench'\nbench('x', { model: model.generate('fc', { layers: 1, width: 8 }), network: 'lte' })\n",
      'typo.bench.ts': "import { bench, model } from 'inferbench'\nbench('x', { model: model.generate('fc', { layers: 1, width: 8 }), backend: 'server', network: 'ltee' })\n",
    })
    try {
      const report = await runBenchmarks({ cwd: project.dir, filters: ['net.bench.ts'] })
      const p50 = Object.fromEntries(report.jobs.map((j) => [j.params.network, j.status === 'skipped' ? 0 : j.latency!.p50]))
      // LTE: 2 × 25 ms one way, jitter 8 ms: the median request waits ~50 ms more than on the LAN.
      expect(p50.lte! - p50.lan!).toBeGreaterThan(2 * LINK_PROFILES.lte!.delayMs * 0.8)
      expect(p50.lte! - p50.lan!).toBeLessThan(2 * LINK_PROFILES.lte!.delayMs * 1.4)
      await expect(runBenchmarks({ cwd: project.dir, filters: ['bad.bench.ts'] })).rejects.toThrow(/network: backend 'onnxruntime' runs in this process/)
      await expect(runBenchmarks({ cwd: project.dir, filters: ['typo.bench.ts'] })).rejects.toThrow(/network: no network 'ltee'; registered: lan, wifi, lte, 3g/)
    } finally {
      project.cleanup()
    }
  }, 90_000)
})
