import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { InferbenchError } from '../../core/errors.ts'

export const LEADER_PROTO = fileURLToPath(new URL('./leader.proto', import.meta.url))
const OPTIONS: protoLoader.Options = { keepCase: false, longs: Number, enums: String, defaults: true }
export const DEFAULT_LEADER_PORT = 7700

export function loadLeaderService(): grpc.ServiceClientConstructor {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(LEADER_PROTO, OPTIONS)) as unknown as { inferbench: { leader: { Leader: grpc.ServiceClientConstructor } } }
  return pkg.inferbench.leader.Leader
}

/** Where the leader is: --leader, else INFERBENCH_LEADER, else 127.0.0.1:7700; host:port, the port 7700 when left out. */
export function leaderAddress(flag: string | undefined): string {
  const given = flag ?? process.env.INFERBENCH_LEADER
  if (given === undefined) return `127.0.0.1:${DEFAULT_LEADER_PORT}`
  const from = flag !== undefined ? '--leader' : 'INFERBENCH_LEADER'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(given)) throw new InferbenchError('INFERBENCH_USAGE', `${from}: expected host:port (gRPC, no scheme), received '${given}'`)
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(given)
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) throw new InferbenchError('INFERBENCH_USAGE', `${from}: expected host:port such as leader-host:${DEFAULT_LEADER_PORT}, received '${given}'`)
  return m[2] === undefined ? `${m[1]}:${DEFAULT_LEADER_PORT}` : given
}

/**
 * A promise-returning client for the leader; the token (INFERBENCH_TOKEN) rides on every call.
 * With INFERBENCH_TLS_CA (a PEM file: the leader's certificate or its CA) the connection is TLS.
 */
export function leaderClient(address: string, token = process.env.INFERBENCH_TOKEN, tlsCaPath = process.env.INFERBENCH_TLS_CA) {
  const Client = loadLeaderService()
  let credentials = grpc.credentials.createInsecure()
  if (tlsCaPath) {
    try {
      credentials = grpc.credentials.createSsl(readFileSync(tlsCaPath))
    } catch (error) {
      throw new InferbenchError('INFERBENCH_USAGE', `INFERBENCH_TLS_CA: cannot read ${tlsCaPath}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  const client = new Client(address, credentials)
  const call = <Res>(method: string, request: object, deadlineMs = 30_000): Promise<Res> => new Promise((resolve, reject) => {
    const metadata = new grpc.Metadata()
    if (token) metadata.set('authorization', `Bearer ${token}`)
    const fn = (client as unknown as Record<string, (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!
    fn.call(client, request, metadata, { deadline: Date.now() + deadlineMs }, (error, value) => {
      if (!error) return resolve(value)
      const tlsHint = tlsCaPath ? '' : ' (if the leader speaks TLS, set INFERBENCH_TLS_CA to its certificate)'
      const why = error.code === grpc.status.UNAVAILABLE ? `no leader answers at ${address} (${error.details.split('\n')[0]!.replace(/ Resolution note:.*$/, '')}); start one with inferbench leader, or set --leader / INFERBENCH_LEADER${tlsHint}`
        : error.code === grpc.status.UNAUTHENTICATED ? `the leader at ${address} refused the token: ${error.details}`
          : `the leader at ${address}: ${error.details}`
      reject(new InferbenchError(error.code === grpc.status.UNAUTHENTICATED || error.code === grpc.status.INVALID_ARGUMENT ? 'INFERBENCH_USAGE' : 'INFERBENCH_BACKEND_FAILED', why, { cause: error }))
    })
  })
  return { call, close: () => client.close() }
}
