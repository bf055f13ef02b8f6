import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from './helpers/temp-project.ts'

const docs = (file: string) => parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy/k8s', file), 'utf8')).map((d) => {
  expect(d.errors, file).toEqual([])
  return d.toJS() as Record<string, any>
})

describe('deploy/k8s manifests', () => {
  it('leader: a one-replica StatefulSet with a volume for its PerfDB, the token from the Secret, behind a Service', () => {
    const [service, leader] = docs('leader.yaml')
    expect(service).toMatchObject({ kind: 'Service', spec: { ports: [{ port: 7700 }] } })
    expect(leader).toMatchObject({ kind: 'StatefulSet', spec: { replicas: 1 } })
    const container = leader!.spec.template.spec.containers[0]
    expect(container.command).toEqual(expect.arrayContaining(['leader', '--host', '0.0.0.0', '--db', '/data/perf.db']))
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' })
    expect(leader!.spec.volumeClaimTemplates[0].metadata.name).toBe('data')
    expect(container.env).toContainEqual({ name: 'INFERBENCH_TOKEN', valueFrom: { secretKeyRef: { name: 'inferbench-token', key: 'token' } } })
    expect(service!.spec.selector).toEqual(leader!.spec.template.metadata.labels)
  })

  it('followers: a Deployment pointed at the leader Service, with the same token', () => {
    const [deployment] = docs('followers.yaml')
    const [service] = docs('leader.yaml')
    expect(deployment).toMatchObject({ kind: 'Deployment' })
    const container = deployment!.spec.template.spec.containers[0]
    expect(container.command).toEqual(['npx', 'inferbench', 'follower', '--leader', `${service!.metadata.name}:7700`])
    expect(container.env[0].valueFrom.secretKeyRef).toEqual({ name: 'inferbench-token', key: 'token' })
    const [secret] = docs('secret.yaml')
    expect(secret).toMatchObject({ kind: 'Secret', metadata: { name: 'inferbench-token' } })
  })

  it('shards: an Indexed Job whose pods run --shard 1..n of n', () => {
    const [job] = docs('shard-job.yaml')
    expect(job).toMatchObject({ kind: 'Job', spec: { completionMode: 'Indexed', completions: 4, parallelism: 4 } })
    const command = job!.spec.template.spec.containers[0].command.join(' ') as string
    expect(command).toContain('--shard=$((JOB_COMPLETION_INDEX + 1))/4')
    // The pod's shell turns the Job's indexes 0..3 into shards 1/4..4/4.
    const shards = [0, 1, 2, 3].map((index) => execFileSync('sh', ['-c', `echo ${command.match(/--shard=\$\(\(.*?\)\)\/\d+/)![0]}`], { env: { JOB_COMPLETION_INDEX: String(index) }, encoding: 'utf8' }).trim())
    expect(shards).toEqual(['--shard=1/4', '--shard=2/4', '--shard=3/4', '--shard=4/4'])
  })
})
