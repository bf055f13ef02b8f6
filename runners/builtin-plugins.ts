import type { Plugin } from '../core/plugin.ts'
import { cost } from '../plugins/cost/index.ts'
import { dockerLauncher } from '../plugins/docker/index.ts'
import { httpBackend } from '../plugins/http/index.ts'
import { kserve } from '../plugins/kserve/index.ts'
import { models } from '../plugins/models/index.ts'
import { network } from '../plugins/network/index.ts'
import { onnxruntime } from '../plugins/onnxruntime/index.ts'
import { probes } from '../plugins/probes/index.ts'
import { processors } from '../plugins/processors/index.ts'
import { serverBackend } from '../plugins/server/backend.ts'
import { tfserving } from '../plugins/tfserving/index.ts'
import { workloads } from '../plugins/workloads/index.ts'
import { reporters } from '../reporters/index.ts'

/**
 * The built-in plugins, registered exactly like third-party ones. A user plugin with the same
 * name (e.g. `onnxruntime({ intraOpThreads: 1 })` in the config) replaces the default instance;
 * `onReplace` hears of each, so the replacement is said, never silent.
 */
export function withBuiltinPlugins(userPlugins: readonly Plugin[], onReplace: (name: string) => void = () => {}): Plugin[] {
  const builtins = [onnxruntime(), serverBackend(), kserve(), tfserving(), dockerLauncher(), httpBackend(), models(), workloads(), reporters(), probes(), cost(), network(), processors()]
  const userNames = new Set(userPlugins.map((p) => p.name))
  for (const b of builtins) if (userNames.has(b.name)) onReplace(b.name)
  return [...builtins.filter((p) => !userNames.has(p.name)), ...userPlugins]
}

/** The notice for a replaced built-in plugin. */
export function replacedNotice(name: string): string {
  return `inferbench: plugin '${name}' from the config replaces the built-in plugin of that name\n`
}
