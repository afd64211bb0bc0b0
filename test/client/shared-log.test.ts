// Proves `new Sluice({ log })` shares an open Log: two Sluice objects see one set of groups and
// offsets (one coordinator per Log), and closing a Sluice leaves a Log it did not open open.
import { afterEach, expect, it } from 'vitest'
import { Log, Sluice, logLevel } from '../../src/index.js'
import { tempDir } from '../helpers.js'
import { waitFor } from './client-helpers.js'

let cleanup: (() => Promise<void>) | null = null

afterEach(async () => {
  await cleanup?.()
})

it('shares groups and offsets between Sluice objects over one Log', async () => {
  const scratch = tempDir()
  const log = await Log.open({ dataDir: scratch.dir, shards: 1 })
  cleanup = async () => { await log.close(); scratch.remove() }
  const first = new Sluice({ log, logLevel: logLevel.NOTHING })
  const second = new Sluice({ log, logLevel: logLevel.NOTHING })
  const admin = first.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'shared', numPartitions: 1 }] })
  const producer = second.producer()
  await producer.connect()
  await producer.send({ topic: 'shared', messages: [{ value: 'one' }, { value: 'two' }] })
  const consumer = second.consumer({ groupId: 'together' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'shared', fromBeginning: true })
  let count = 0
  const both = waitFor('two messages', () => count === 2)
  await consumer.run({ eachMessage: async () => { count++; both.poke() } })
  await both.done
  const { groups } = await admin.describeGroups(['together'])
  expect(groups[0]!.members).toHaveLength(1)
  await second.close()
  const [offsets] = await admin.fetchOffsets({ groupId: 'together', topics: ['shared'] })
  expect(offsets!.partitions[0]!.offset).toBe('2')
  await first.close()
  expect(await log.listTopics()).toContain('shared')
})
