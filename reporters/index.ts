import { definePlugin, type Plugin } from '../core/plugin.ts'
import { defaultReporter } from './default.ts'
import { htmlReporter } from './html/index.ts'
import { jsonReporter } from './json.ts'
import { junitReporter } from './junit.ts'

/** The built-in reporters, registered as a plugin like any other. */
export function reporters(): Plugin {
  return definePlugin({ name: 'inferbench:reporters', reporters: { default: defaultReporter, json: jsonReporter, junit: junitReporter, html: htmlReporter } })
}
