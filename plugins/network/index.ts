import { definePlugin, type LinkFactory, type Plugin } from '../../core/plugin-api.ts'
import { startLinkProxy } from './link-proxy.ts'
import { LINK_PROFILES, type LinkProfile } from './profiles.ts'

export { LINK_PROFILES, type LinkProfile } from './profiles.ts'

/**
 * Emulated networks as a matrix axis: `network: ['lan', 'lte']` on a bench puts a userspace link
 * (plugins/network/link-proxy.ts) between the load generator and a backend that connects over a
 * socket (server, http, kserve, triton, tfserving). Custom links: `network({ profiles: { ... } })`.
 */
export function network(options: { profiles?: Record<string, LinkProfile> } = {}): Plugin {
  const profiles = { ...LINK_PROFILES, ...options.profiles }
  const links: Record<string, LinkFactory> = Object.fromEntries(Object.entries(profiles).map(([name, profile]) => [name, (target) => startLinkProxy(target, profile)]))
  return definePlugin({
    name: 'inferbench:network', links,
    axes: { network: `an emulated link between the load generator and the backend: ${Object.keys(profiles).join(', ')}` },
  })
}
