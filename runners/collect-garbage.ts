import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | undefined

/**
 * A full garbage collection now, so that the garbage of start-up, model generation and warm-up is
 * not collected in the middle of the measurement: a mark-compact there stalls the load generator
 * for 10+ ms and shows as late sends and a false tail (seen on 2 cores right after start-up).
 * V8 exposes `gc` once the flag is set; a fresh context picks it up without restarting Node.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  gc()
}
