// Proves `sluice broker` as a process (the built CLI in dist/): it listens where told, serves a
// kafkajs producer and consumer exactly, honours --no-auto-create-topics and
// --default-partitions and --advertised-listener, and on SIGTERM exits 0 after writing every partition's clean-shutdown
// marker.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { repoRoot, tempDir } from '../helpers.js'
import { WireClient } from './wire-client.js'
import { byPosition, consumeCount, expected, kafkaFor, sampleMessages }
  from './kafkajs-helpers.js'

const cli = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js')
const cleanups: (() => void)[] = []

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

interface Running {
  child: ChildProcess
  port: number
  stderr: () => string
  exited: Promise<number | null>
}

async function startCli(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [cli, 'broker', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  cleanups.push(() => child.kill('SIGKILL'))
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = ''
    const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)),
      20_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout)
      if (match !== null) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      }
    })
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
  return { child, port, stderr: () => stderr, exited }
}

describe('sluice broker', () => {
  it('serves kafkajs and shuts down cleanly on SIGTERM', async () => {
    const { dir, remove } = tempDir('sluice-cli-')
    cleanups.push(remove)
    const broker = await startCli(['--data-dir', dir, '--listen', '127.0.0.1:0',
      '--default-partitions', '3'])
    const kafka = kafkaFor(broker.port, 'cli-test')
    const producer = kafka.producer()
    await producer.connect()
    const messages = sampleMessages(9, 'cli', 1)
    await producer.send({ topic: 'from-cli', messages })
    await producer.disconnect()
    const consumer = kafka.consumer({ groupId: 'cli-group', maxWaitTimeInMs: 200 })
    await consumer.connect()
    const records = await consumeCount(consumer, 'from-cli', 9)
    await consumer.disconnect()
    expect(byPosition(records)).toEqual(messages.map((m, i) => expected(m, 1, i)))

    broker.child.kill('SIGTERM')
    expect(await broker.exited).toBe(0)
    expect(broker.stderr()).toContain('log closed cleanly')
    for (const partition of ['from-cli-0', 'from-cli-1', 'from-cli-2', '__consumer_offsets-0']) {
      expect(existsSync(path.join(dir, partition, 'clean-shutdown'))).toBe(true)
    }
  })

  it('refuses unknown topics with --no-auto-create-topics', async () => {
    const { dir, remove } = tempDir('sluice-cli-')
    cleanups.push(remove)
    const broker = await startCli(['--data-dir', dir, '--listen', '127.0.0.1:0',
      '--no-auto-create-topics'])
    const admin = kafkaFor(broker.port, 'cli-admin').admin()
    await admin.connect()
    await expect(admin.fetchTopicMetadata({ topics: ['missing'] }))
      .rejects.toThrow(/does not host this topic-partition/)
    expect(await admin.listTopics()).toEqual([])
    await admin.disconnect()
    broker.child.kill('SIGINT')
    expect(await broker.exited).toBe(0)
  })

  it('advertises --advertised-listener in Metadata and FindCoordinator', async () => {
    const { dir, remove } = tempDir('sluice-cli-')
    cleanups.push(remove)
    const broker = await startCli(['--data-dir', dir, '--listen', '127.0.0.1:0',
      '--advertised-listener', 'broker.example:19999'])
    const wire = await WireClient.connect(broker.port)
    const metadata = await wire.request(3, 8, { topics: null })
    expect(metadata.brokers).toEqual([{ nodeId: 1, host: 'broker.example', port: 19999,
      rack: null }])
    expect(await wire.request(10, 2, { key: 'g', keyType: 0 }))
      .toMatchObject({ host: 'broker.example', port: 19999 })
    wire.close()
    broker.child.kill('SIGTERM')
    expect(await broker.exited).toBe(0)
  })

  it('exits 1 with a clear error on a bad flag or a port in use, leaving nothing running',
    async () => {
      const { dir, remove } = tempDir('sluice-cli-bad-')
      cleanups.push(remove)
      const run = (args: string[]) => new Promise<{ code: number | null; stderr: string }>(
        (resolve) => {
          const child = spawn(process.execPath, [cli, 'broker', ...args],
            { stdio: ['ignore', 'ignore', 'pipe'] })
          cleanups.push(() => child.kill('SIGKILL'))
          let stderr = ''
          child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
          child.on('exit', (code) => resolve({ code, stderr }))
        })
      const badFlag = await run(['--data-dir', dir, '--default-partitions', '-3'])
      expect(badFlag.code).toBe(1)
      expect(badFlag.stderr).toMatch(/--default-partitions must be a positive integer, got -3/)
      const first = await startCli(['--data-dir', dir, '--listen', '127.0.0.1:0'])
      const { dir: other, remove: removeOther } = tempDir('sluice-cli-bad-')
      cleanups.push(removeOther)
      const taken = await run(['--data-dir', other, '--listen', `127.0.0.1:${first.port}`])
      expect(taken.code).toBe(1)
      expect(taken.stderr).toMatch(
        /SLUICE_ERR_INVALID_CONFIG: cannot listen on 127\.0\.0\.1:\d+: the address is already in use/)
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)
    }, 60_000)
})
