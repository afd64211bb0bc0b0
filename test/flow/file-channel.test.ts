// Proves the file channel's durability contract and its recovery table (one test per row of the
// table in src/flow/channels/channel-log.ts): a restart replays committed-but-untaken events,
// an open take at a stop comes back, the checkpoint file serves when the takes log is empty, a
// corrupt take record replays from the log start, a position past the end is clamped, stale
// generations are removed, a drained log rotates, and minimumRequiredSpace refuses puts with
// SLUICE_ERR_CHANNEL_FULL.
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { FileChannel, type FileChannelOptions } from '../../src/flow/channels/file-channel.js'
import {
  TAKE_POSITION_FILE, encodeTakePosition,
} from '../../src/flow/channels/take-position.js'
import { Log } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import { capturingLogger, putAll, takeAll } from './flow-helpers.js'

const scratch = tempDir('sluice-file-channel-')
afterAll(() => scratch.remove())
let counter = 0

function options(name: string, extra: Partial<FileChannelOptions> = {}): FileChannelOptions {
  return { checkpointDir: path.join(scratch.dir, name, 'cp'),
    dataDirs: [path.join(scratch.dir, name, 'data')], capacity: 100, transactionCapacity: 20,
    keepAliveSeconds: 0, minimumRequiredSpace: 1024 * 1024, ...extra }
}

/** Appends a raw record to generation 0's takes log, as a torn or stray write would leave. */
async function appendTakeRecord(opts: FileChannelOptions, value: Buffer): Promise<void> {
  const log = await Log.open({ dataDir: opts.dataDirs[0]!, shards: 1 })
  await log.append('takes-0', 0, [{ value }])
  await log.close()
}

async function started(opts: FileChannelOptions): Promise<FileChannel> {
  const channel = new FileChannel('c', opts)
  await channel.start()
  return channel
}

it('replays committed, untaken events after a restart, and not the taken ones', async () => {
  const opts = options(`ch${counter++}`)
  const first = await started(opts)
  await putAll(first, ['a', 'b', 'c', 'd'])
  expect(await takeAll(first, 2)).toEqual(['a', 'b'])
  await first.stop()
  const second = await started(opts)
  expect(second.size()).toBe(2)
  expect(await takeAll(second, 10)).toEqual(['c', 'd'])
  await second.stop()
})

it('gives back events whose take never committed (a duplicate, not a loss)', async () => {
  const opts = options(`ch${counter++}`)
  const first = await started(opts)
  await putAll(first, ['a', 'b'])
  const tx = first.getTransaction()
  tx.begin()
  expect((await tx.take())?.body.toString()).toBe('a')
  await first.stop()
  const second = await started(opts)
  expect(await takeAll(second, 10)).toEqual(['a', 'b'])
  await second.stop()
})

it('resumes from the checkpoint file when the takes log holds no position', async () => {
  const opts = options(`ch${counter++}`)
  const first = await started(opts)
  await putAll(first, ['a', 'b', 'c'])
  await first.stop()
  writeFileSync(path.join(opts.checkpointDir, TAKE_POSITION_FILE),
    encodeTakePosition({ generation: 0, takeOffset: 1 }))
  const second = await started(opts)
  expect(await takeAll(second, 10)).toEqual(['b', 'c'])
  await second.stop()
})

it('replays from the log start when the newest take record fails its xxhash64 check',
  async () => {
    const opts = options(`ch${counter++}`)
    const first = await started(opts)
    await putAll(first, ['a', 'b', 'c'])
    expect(await takeAll(first, 2)).toEqual(['a', 'b'])
    await first.stop()
    const bad = encodeTakePosition({ generation: 0, takeOffset: 2 })
    bad[15]! ^= 0xff
    await appendTakeRecord(opts, bad)
    const logger = capturingLogger()
    const second = await started({ ...opts, logger })
    expect(logger.warnings.join('\n'))
      .toMatch(/take position fails its xxhash64 check; replaying its log from the start/)
    expect(await takeAll(second, 10)).toEqual(['a', 'b', 'c'])
    await second.stop()
  })

it('clamps a take position past the log end to the end', async () => {
  const opts = options(`ch${counter++}`)
  const first = await started(opts)
  await putAll(first, ['a'])
  await first.stop()
  await appendTakeRecord(opts, encodeTakePosition({ generation: 0, takeOffset: 50 }))
  const logger = capturingLogger()
  const second = await started({ ...opts, logger })
  expect(logger.warnings.join('\n')).toMatch(/take position 50 is past the log's end 1/)
  expect(second.size()).toBe(0)
  await putAll(second, ['b'])
  expect(await takeAll(second, 10)).toEqual(['b'])
  await second.stop()
})

it('drains newer generations after the take generation, and deletes drained ones', async () => {
  const opts = options(`ch${counter++}`)
  const first = await started(opts)
  await putAll(first, ['a'])
  await first.stop()
  const log = await Log.open({ dataDir: opts.dataDirs[0]!, shards: 1 })
  await log.createTopic('channel-1', { partitions: 1 })
  await log.append('channel-1', 0, [{ value: 'b' }])
  await log.close()
  const second = await started(opts)
  expect(second.size()).toBe(2)
  // A transaction stops at the generation boundary: the next one moves on.
  expect(await takeAll(second, 10)).toEqual(['a'])
  expect(await takeAll(second, 10)).toEqual(['b'])
  await second.stop()
  const check = await Log.open({ dataDir: opts.dataDirs[0]!, shards: 1 })
  expect(await check.listTopics()).toEqual(['channel-1', 'takes-1'])
  await check.close()
  const third = await started(opts)
  expect(third.size()).toBe(0)
  await third.stop()
})

it('deletes generations older than the take generation (a crash mid-advance)', async () => {
  const opts = options(`ch${counter++}`)
  const first = await started(opts)
  await putAll(first, ['a'])
  expect(await takeAll(first, 10)).toEqual(['a'])
  await first.stop()
  const log = await Log.open({ dataDir: opts.dataDirs[0]!, shards: 1 })
  await log.createTopic('channel-1', { partitions: 1 })
  await log.createTopic('takes-1', { partitions: 1 })
  await log.append('channel-1', 0, [{ value: 'b' }])
  await log.append('takes-1', 0, [{ value: encodeTakePosition({ generation: 1, takeOffset: 0 }) }])
  await log.close()
  const second = await started(opts)
  expect(await takeAll(second, 10)).toEqual(['b'])
  await second.stop()
  const check = await Log.open({ dataDir: opts.dataDirs[0]!, shards: 1 })
  expect(await check.listTopics()).toEqual(['channel-1', 'takes-1'])
  await check.close()
})

it('rotates puts to a new generation under load, never needing the channel to empty',
  async () => {
    const opts = options(`ch${counter++}`, { rotateAfterEvents: 5 })
    const first = await started(opts)
    await putAll(first, ['1', '2', '3', '4', '5', '6'])
    await putAll(first, ['7', '8'])
    expect(first.describe()).toMatch(/takes from .*channel-0-0, puts to channel-1/)
    expect(await takeAll(first, 10)).toEqual(['1', '2', '3', '4', '5', '6'])
    await putAll(first, ['9'])
    await first.stop()
    const second = await started(opts)
    expect(second.size()).toBe(3)
    expect(await takeAll(second, 10)).toEqual(['7', '8', '9'])
    expect(second.describe()).toMatch(/takes from .*channel-1-0/)
    await second.stop()
  })

it('refuses puts below minimumRequiredSpace with SLUICE_ERR_CHANNEL_FULL', async () => {
  let freeBytes = 10 * 1024 * 1024
  const opts = options(`ch${counter++}`, { minimumRequiredSpace: 8 * 1024 * 1024,
    freeBytes: () => freeBytes })
  const channel = await started(opts)
  await putAll(channel, ['fits'])
  freeBytes = 8 * 1024 * 1024
  const error = await putAll(channel, ['refused']).catch((e: unknown) => e)
  expect(isSluiceError(error, 'SLUICE_ERR_CHANNEL_FULL')).toBe(true)
  expect((error as Error).message).toMatch(/Usable space exhausted/)
  expect(await takeAll(channel, 10)).toEqual(['fits'])
  await channel.stop()
})

it('commits a transaction larger than the engine\'s default batch limit (5 MB of events)',
  async () => {
    const channel = await started(options(`ch${counter++}`, { maxFileSize: 1024 * 1024 }))
    const body = 'p'.repeat(100_000)
    await putAll(channel, Array.from({ length: 20 }, () => body))
    await putAll(channel, Array.from({ length: 20 }, () => body))
    const taken = await takeAll(channel, 20)
    expect(taken).toHaveLength(20)
    expect(taken.every((b) => b === body)).toBe(true)
    await channel.stop()
  })
