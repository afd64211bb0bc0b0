// Proves that what a consumer hands out is the user's to keep, as with kafkajs: a slice of a
// delivered value (kept past the handler) still holds the same bytes after the log's
// shared-memory tail window has been reused many times over.
import { afterEach, expect, it } from 'vitest'
import { Log, Sluice, logLevel } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import { waitFor } from './client-helpers.js'

const scratch = tempDir('sluice-owned-')
let log: Log | null = null
afterEach(async () => {
  await log?.close()
  scratch.remove()
})

it('gives eachMessage and fetch buffers that survive window reuse', async () => {
  // Two 4 KiB slots: a few dozen 1000-byte records cycle the window several times.
  log = await Log.open({ dataDir: scratch.dir, shards: 1, windowSlotBytes: 4096,
    windowSlotCount: 2 })
  await log.createTopic('kept', { partitions: 1, durability: 'os' })
  const sluice = new Sluice({ log, logLevel: logLevel.NOTHING })
  const producer = sluice.producer()
  await producer.connect()
  await producer.send({ topic: 'kept', messages: [{ key: 'k', value: 'A'.repeat(1000),
    headers: { h: 'H'.repeat(100) } }] })

  const pushed: Buffer[] = []
  const push = sluice.consumer({ groupId: 'push' })
  await push.connect()
  await push.subscribe({ topic: 'kept', fromBeginning: true })
  const first = waitFor('the first message to be pushed', () => pushed.length > 0)
  await push.run({ autoCommit: false, eachMessage: async ({ message }) => {
    if (pushed.length === 0) {
      expect(message.value!.buffer).not.toBeInstanceOf(SharedArrayBuffer)
      pushed.push(message.value!.subarray(5), message.key!, message.headers.h as Buffer)
    }
    first.poke()
  } })
  await first.done

  const pull = sluice.consumer({ groupId: 'pull' })
  await pull.connect()
  await pull.subscribe({ topic: 'kept', fromBeginning: true })
  const [batch] = await pull.fetch({ maxWaitMs: 1000 })
  const pulledSlice = batch!.messages[0]!.value!.subarray(5)

  for (let i = 0; i < 40; i++) {
    await producer.send({ topic: 'kept', messages: [{ value: 'B'.repeat(1000) }] })
  }
  globalThis.gc?.()
  expect(pushed[0]!.toString()).toBe('A'.repeat(995))
  expect(pushed[1]!.toString()).toBe('k')
  expect(pushed[2]!.toString()).toBe('H'.repeat(100))
  expect(pulledSlice.toString()).toBe('A'.repeat(995))
  await sluice.close()
})
