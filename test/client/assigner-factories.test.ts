// Proves a consumer configured the kafkajs way, with `PartitionAssigners.roundRobin` (a factory),
// joins and is assigned every partition, and that an assigner sluice lacks is refused by name.
import { PartitionAssigners } from 'kafkajs'
import { afterEach, expect, it } from 'vitest'
import { sluiceScratch, type SluiceScratch } from './client-helpers.js'

let scratch: SluiceScratch | null = null
afterEach(async () => {
  await scratch?.cleanup()
  scratch = null
})

it('accepts kafkajs assigner factories and refuses unknown assigners by name', async () => {
  scratch = sluiceScratch()
  const admin = scratch.sluice.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'rr', numPartitions: 3 }] })
  const consumer = scratch.sluice.consumer({ groupId: 'g',
    partitionAssigners: [PartitionAssigners.roundRobin] })
  await consumer.connect()
  await consumer.subscribe({ topic: 'rr' })
  let assigned: unknown = null
  consumer.on(consumer.events.GROUP_JOIN, (event) => { assigned = event.payload.memberAssignment })
  await consumer.run({ eachMessage: async () => undefined })
  expect(assigned).toEqual({ rr: [0, 1, 2] })
  await consumer.disconnect()

  const sticky = () => ({ name: 'StickyAssigner', version: 0 })
  const refused = scratch.sluice.consumer({ groupId: 'h', partitionAssigners: [sticky as never] })
  await refused.connect()
  await refused.subscribe({ topic: 'rr' })
  await expect(refused.run({ eachMessage: async () => undefined }))
    .rejects.toThrow(/Unknown partition assigner "StickyAssigner"/)
})
