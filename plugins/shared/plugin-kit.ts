/**
 * `inferbench/plugin`: the plugin contract (core/plugin-api.ts) and the shared helpers every
 * built-in plugin is written with (plugins/shared/): enough to write any built-in again.
 */
export * from '../../core/plugin-api.ts'
export * from './index.ts'
// Custom emulated links: plugins: [network({ profiles: { satellite: { delayMs: 300, ... } } })].
export { network, LINK_PROFILES, type LinkProfile } from '../network/index.ts'
// The contract's option schemas are zod objects: plugins declare theirs with this same zod.
export { z } from 'zod'
