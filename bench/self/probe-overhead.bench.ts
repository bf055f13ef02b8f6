import { bench, describe } from 'inferbench'
import { createRegistry, type Probe } from '../../core/plugin.ts'
import { probes } from '../../plugins/probes/index.ts'

/**
 * What the default probes cost: one sample of `cpu` and `memory` (reading /proc/stat,
 * /proc/<pid>/stat, /proc/<pid>/status and /proc/meminfo) runs on the benchmarking thread every
 * measurement.probeInterval (250 ms). Its time is both the CPU it takes and the longest it can
 * hold back a send or an answer's timestamp. Reference: the interval itself.
 */
const registry = createRegistry([probes()])
const cpu = await registry.probe('cpu')({ pids: [process.pid] }) as Probe
const memory = await registry.probe('memory')({ pids: [process.pid] }) as Probe

describe('probe sampling cost', () => {
  bench('cpu + memory, one sample', () => { cpu.sample(); memory.sample() }, { time: '1s' })
})
