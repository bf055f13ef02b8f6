import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { TaskQueue } from '../../runners/leader/task-queue.ts'

const dir = mkdtempSync(join(tmpdir(), 'inferbench-queue-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const open = () => TaskQueue.open(join(dir, `q${n++}.db`), { leaseMs: 1000, deadAfterMs: 1000, maxAttempts: 2 })
const suites = [{ name: 's.bench.yaml', yaml: 'benches: []' }]
const jobs = (estimates: number[]) => estimates.map((ms, i) => ({ jobId: `j${i}`, name: `job ${i}`, suiteName: 's.bench.yaml', estimateMs: ms }))

describe('leader task queue', () => {
  it('tier 1 places by outstanding work, tier 2 hands each follower its shortest job', () => {
    const q = open()
    const a = q.register('a', '{}', 0)
    const b = q.register('b', '{}', 0)
    const task = q.submit('u', suites, jobs([9000, 1000, 1000, 1000]), 0)
    // qa: j0 (9 s) → a; j1 → b (0 < 9); j2 → b (1 < 9); j3 → b (2 < 9).
    const placed = q.status(task, 0).tasks[0]!.jobs.map((j) => j.follower)
    expect(placed).toEqual([a, b, b, b])
    expect(q.claim(b, 10)).toMatchObject({ jobId: 'j1', attempt: 1 })
    expect(q.claim(a, 10)).toMatchObject({ jobId: 'j0' })
    // b finishes j1 and takes the next of its own, shortest first.
    expect(q.complete(b, task, 'j1', 1, 'passed')).toEqual({ stored: true })
    expect(q.complete(b, task, 'j1', 1, 'passed')).toEqual({ stored: false, why: 'already stored' })
    expect(q.claim(b, 20)).toMatchObject({ jobId: 'j2' })
    q.close()
  })

  it('a lease not renewed goes back to the queue; after maxAttempts the job fails with every reason; a late report is not stored', () => {
    const q = open()
    const a = q.register('a', '{}', 0)
    const task = q.submit('u', suites, jobs([500]), 0)
    expect(q.claim(a, 0)).toMatchObject({ attempt: 1 })
    expect(q.heartbeat(a, 0, 800).known).toBe(true) // renews to 1,800
    q.expire(1500)
    expect(q.status(task, 0).tasks[0]!.jobs[0]!.state).toBe('leased')
    q.expire(1900)
    expect(q.status(task, 0).tasks[0]!.jobs[0]).toMatchObject({ state: 'queued', attempts: 1 })
    const b = q.register('b', '{}', 1900)
    expect(q.complete(a, task, 'j0', 1, 'passed')).toEqual({ stored: false, why: 'the lease was lost: the job was given to another follower' })
    expect(q.claim(b, 1900)).toMatchObject({ attempt: 2 })
    q.expire(5000)
    const job = q.status(task, 0).tasks[0]!.jobs[0]!
    expect(job.state).toBe('failed')
    expect(job.errors).toEqual([`attempt 1: follower ${a} stopped renewing its lease`, `attempt 2: follower ${b} stopped renewing its lease`])
    expect(q.status(task, 0).tasks[0]!.state).toBe('failed')
    q.close()
  })

  it('a job that ran but missed its SLO is done with verdict failed, and fails its task', () => {
    const q = open()
    const a = q.register('a', '{}', 0)
    const task = q.submit('u', suites, jobs([500, 500]), 0)
    q.claim(a, 0)
    expect(q.complete(a, task, 'j0', 1, 'failed')).toEqual({ stored: true })
    q.claim(a, 10)
    q.complete(a, task, 'j1', 1, 'passed')
    const view = q.status(task, 20).tasks[0]!
    expect(view.jobs.map((j) => [j.state, j.verdict])).toEqual([['done', 'failed'], ['done', 'passed']])
    expect(view.state).toBe('failed')
    q.close()
  })

  it('a stopping follower gives its job back at once, the attempt not counted; only the lease holder can', () => {
    const q = open()
    const a = q.register('a', '{}', 0)
    const b = q.register('b', '{}', 0)
    const task = q.submit('u', suites, jobs([500]), 0)
    const claimed = q.claim(a, 0)!
    expect(q.release(b, task, 'j0', claimed.attempt)).toBe(false)
    expect(q.release(a, task, 'j0', claimed.attempt)).toBe(true)
    expect(q.status(task, 10).tasks[0]!.jobs[0]).toMatchObject({ state: 'queued', attempts: 0, errors: [`follower ${a} stopped and gave the job back (not counted as an attempt)`] })
    expect(q.claim(b, 20)).toMatchObject({ jobId: 'j0', attempt: 1 })
    expect(q.complete(a, task, 'j0', 1, 'passed')).toEqual({ stored: false, why: 'the lease was lost: the job was given to another follower' })
    q.close()
  })

  it('cancel stops queued jobs at once and tells the follower running one at its next heartbeat', () => {
    const q = open()
    const a = q.register('a', '{}', 0)
    const task = q.submit('u', suites, jobs([1000, 2000]), 0)
    expect(q.claim(a, 0)).toMatchObject({ jobId: 'j0' })
    expect(q.cancel(task)).toBe(2)
    expect(q.heartbeat(a, 0, 100)).toEqual({ known: true, cancel: ['j0'] })
    expect(q.heartbeat(a, 0, 200)).toEqual({ known: true, cancel: [] })
    expect(q.claim(a, 300)).toBeUndefined()
    expect(q.status(task, 0).tasks[0]!.state).toBe('cancelled')
    q.close()
  })

  it('matches jobs to what followers registered: a job goes only to a follower with its backend (and a GPU when it needs one); one nobody offers waits, saying why', () => {
    const q = open()
    const cpu = q.register('cpu', '{}', 0, { backends: ['onnxruntime'], gpus: 0 })
    const gpu = q.register('gpu', '{}', 0, { backends: ['onnxruntime', 'triton'], gpus: 1 })
    const needs = [{ backend: 'onnxruntime', gpu: false }, { backend: 'triton', gpu: false }, { backend: 'onnxruntime', gpu: true }, { backend: 'tfserving', gpu: false }]
    const task = q.submit('u', suites, jobs([1000, 1000, 1000, 1000]).map((j, i) => ({ ...j, needs: needs[i]! })), 0)
    const placed = q.status(task, 0).tasks[0]!.jobs
    expect(placed.map((j) => j.follower)).toEqual([cpu, gpu, gpu, ''])
    expect(placed[3]!.waiting).toBe("no live follower offers backend 'tfserving'")
    // The cpu follower takes its job, then nothing: the others are not for it, even idle.
    expect(q.claim(cpu, 10)).toMatchObject({ jobId: 'j0' })
    q.complete(cpu, task, 'j0', 1, 'passed')
    expect(q.claim(cpu, 20)).toBeUndefined()
    expect(q.claim(gpu, 20)).toMatchObject({ jobId: 'j1' })
    // A follower that did not list its backends (an older one) takes anything but GPU work.
    const any = q.register('any', '{}', 30)
    expect(q.claim(any, 30)).toMatchObject({ jobId: 'j3' })
    expect(q.claim(any, 40)).toBeUndefined()
    q.close()
  })
})
