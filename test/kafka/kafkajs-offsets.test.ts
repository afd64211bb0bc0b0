// Proves committing and fetching offsets with kafkajs 2.2.4 against the broker: a consumer's
// manual commit is what admin.fetchOffsets reports and where the next member of the group
// resumes; admin.setOffsets on an empty group moves that point; an unknown group reports -1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Kafka } from 'kafkajs'
import { until } from '../helpers.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { exact, expected, kafkaFor, sampleMessages, type ExactRecord } from './kafkajs-helpers.js'

const TOPIC = 'committed'
const GROUP = 'committer'

let fixture: BrokerFixture
let kafka: Kafka

beforeAll(async () => {
  fixture = await openBroker()
  kafka = kafkaFor(fixture.port, 'offsets-test')
})

afterAll(async () => {
  await fixture.close()
})

async function readFromCommitted(count: number): Promise<ExactRecord[]> {
  const consumer = kafka.consumer({ groupId: GROUP, maxWaitTimeInMs: 200 })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  const records: ExactRecord[] = []
  await consumer.run({ autoCommit: false,
    eachMessage: async (payload) => void records.push(exact(payload)) })
  await until(`${count} records`, () => records.length >= count)
  await consumer.disconnect()
  return records
}

describe('kafkajs offsets', () => {
  it('commits, fetches, resumes and resets offsets', async () => {
    const admin = kafka.admin()
    await admin.connect()
    const producer = kafka.producer()
    await producer.connect()
    const messages = sampleMessages(10, 'commit', 0)
    await producer.send({ topic: TOPIC, messages })
    await producer.disconnect()
    const all = messages.map((m, offset) => expected(m, 0, offset))
    expect(await admin.fetchOffsets({ groupId: 'nobody', topics: [TOPIC] })).toEqual([
      { topic: TOPIC, partitions: [{ partition: 0, offset: '-1', metadata: null }] }])

    const consumer = kafka.consumer({ groupId: GROUP, maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
    const records: ExactRecord[] = []
    await consumer.run({ autoCommit: false,
      eachMessage: async (payload) => void records.push(exact(payload)) })
    await until('ten records', () => records.length === 10)
    expect(records).toEqual(all)
    await consumer.commitOffsets([{ topic: TOPIC, partition: 0, offset: '7' }])
    await consumer.disconnect()

    const fetched = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
    expect(fetched).toEqual([{ topic: TOPIC,
      partitions: [{ partition: 0, offset: '7', metadata: null }] }])
    expect(await readFromCommitted(3)).toEqual(all.slice(7))

    await admin.setOffsets({ groupId: GROUP, topic: TOPIC,
      partitions: [{ partition: 0, offset: '2' }] })
    expect((await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0]!.partitions)
      .toEqual([{ partition: 0, offset: '2', metadata: null }])
    expect(await readFromCommitted(8)).toEqual(all.slice(2))

    await admin.resetOffsets({ groupId: GROUP, topic: TOPIC, earliest: true })
    expect(await readFromCommitted(10)).toEqual(all)
    await admin.disconnect()
  })
})
