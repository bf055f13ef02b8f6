/** One direction's and the round trip's character, as a link emulator applies it. */
export interface LinkProfile {
  /** One-way delay added to every chunk, each direction (ms): half the round trip. */
  delayMs: number
  /** Standard deviation of that delay (ms), order kept (a TCP stream is never reordered). */
  jitterMs: number
  /** Client → server and server → client bandwidth, bits per second. */
  upBps: number
  downBps: number
  /** Fraction of chunks that need a retransmission: each such chunk waits one more round trip. */
  loss: number
  source: string
}

/**
 * Named links (`network: ['lan', 'wifi', 'lte', '3g']`), from published measurements:
 * - lan: switched gigabit Ethernet, ~0.2 ms round trip (a typical data-centre/office LAN).
 * - wifi: campus 802.11ac; median RTT ~12 ms and ~50/25 Mbit/s per client, as measured across
 *   campus networks (Pei et al., "WiFi can be the weakest link of round trip network latency in
 *   the wild", IEEE INFOCOM 2016: median Wi-Fi hop latency over 20 ms in 10% of samples).
 * - lte: 4G LTE as Ookla/Opensignal report for US networks (2023): ~35 Mbit/s down, ~8 Mbit/s
 *   up, ~50 ms round trip, ~0.5% of segments retransmitted.
 * - 3g: Chrome DevTools' and Lighthouse's "Fast 3G"-class profile (WebPageTest "3G": 1.6 Mbit/s
 *   down, 768 kbit/s up, 300 ms RTT), the usual yardstick for slow mobile links.
 * Custom links: `network({ profiles: { satellite: { delayMs: 300, ... } } })` in `plugins`.
 */
export const LINK_PROFILES: Record<string, LinkProfile> = {
  lan: { delayMs: 0.1, jitterMs: 0.02, upBps: 1e9, downBps: 1e9, loss: 0, source: 'switched gigabit Ethernet' },
  wifi: { delayMs: 6, jitterMs: 3, upBps: 25e6, downBps: 50e6, loss: 0.001, source: 'campus 802.11ac (Pei et al., INFOCOM 2016)' },
  lte: { delayMs: 25, jitterMs: 8, upBps: 8e6, downBps: 35e6, loss: 0.005, source: 'US 4G LTE medians (Ookla, Opensignal 2023)' },
  '3g': { delayMs: 150, jitterMs: 30, upBps: 768e3, downBps: 1.6e6, loss: 0.01, source: 'WebPageTest 3G profile' },
}
