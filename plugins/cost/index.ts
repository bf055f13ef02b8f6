import { definePlugin, type Plugin } from '../../core/plugin-api.ts'
import { defaultCostModel } from './cost-model.ts'

/** Built-in cost model: energy (measured or estimated), CO2 by grid, cloud cost by instance price. */
export function cost(): Plugin {
  return definePlugin({ name: 'inferbench:cost', costModels: { default: defaultCostModel } })
}
