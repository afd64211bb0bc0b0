// Proves kafkajs 2.2.4's admin against the broker: creating topics (defaults, explicit counts,
// configs, "already exists"), describing them, adding partitions, deleting them, with an
// exact produce/consume round trip through a topic the admin created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import type { Admin, Kafka } from 'kafkajs'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { byPosition, consumeCount, expected, kafkaFor, sampleMessages }
  from './kafkajs-helpers.js'

const { ConfigResourceTypes } = kafkajs

let fixture: BrokerFixture
let kafka: Kafka
let admin: Admin

beforeAll(async () => {
  fixture = await openBroker({ defaultPartitions: 2 })
  kafka = kafkaFor(fixture.port, 'admin-test')
  admin = kafka.admin()
  await admin.connect()
})

afterAll(async () => {
  await admin.disconnect()
  await fixture.close()
})

describe('kafkajs admin', () => {
  it('creates topics with defaults, counts and configs; refuses duplicates', async () => {
    expect(await admin.createTopics({ topics: [
      { topic: 'admin-default' },
      { topic: 'admin-three', numPartitions: 3,
        configEntries: [{ name: 'retention.ms', value: '3600000' }] },
    ] })).toBe(true)
    expect(await admin.createTopics({ topics: [{ topic: 'admin-three' }] })).toBe(false)
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['admin-default',
      'admin-three']))
    const { topics } = await admin.fetchTopicMetadata({ topics: ['admin-default',
      'admin-three'] })
    expect(topics.map((t) => [t.name, t.partitions.length]).sort())
      .toEqual([['admin-default', 2], ['admin-three', 3]])
    const configs = await admin.describeConfigs({ includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'admin-three',
        configNames: ['retention.ms'] }] })
    expect(configs.resources[0]!.configEntries).toMatchObject([{ configName: 'retention.ms',
      configValue: '3600000' }])
  })

  it('validateOnly runs the same checks as a real create, and creates nothing', async () => {
    // waitForLeaders: false, as with Kafka: a validated topic has no leader to wait for.
    expect(await admin.createTopics({ validateOnly: true, waitForLeaders: false,
      topics: [{ topic: 'admin-dry', numPartitions: 4 }] })).toBe(true)
    await expect(admin.createTopics({ validateOnly: true, waitForLeaders: false,
      topics: [{ topic: 'admin-dry', numPartitions: 20_000 }] })).rejects.toThrow()
    await expect(admin.createTopics({ validateOnly: true, waitForLeaders: false,
      topics: [{ topic: 'admin-dry',
      configEntries: [{ name: 'segment.bytes', value: '10' }] }] })).rejects.toThrow()
    expect(await admin.listTopics()).not.toContain('admin-dry')
  })

  it('refuses what one node cannot do', async () => {
    const errorType = (promise: Promise<unknown>) => promise.then(() => 'created',
      (error: { errors?: { type: string }[] }) => error.errors?.[0]?.type)
    expect(await errorType(admin.createTopics({ topics: [{ topic: 'replicated',
      replicationFactor: 3 }] }))).toBe('INVALID_REPLICATION_FACTOR')
    expect(await errorType(admin.createTopics({ topics: [{ topic: 'bad name!' }] })))
      .toBe('INVALID_TOPIC_EXCEPTION')
    expect(await admin.listTopics()).not.toContain('replicated')
  })

  it('round-trips records through a created topic, grows it, then deletes it', async () => {
    const topic = 'admin-roundtrip'
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
    const producer = kafka.producer()
    await producer.connect()
    const messages = sampleMessages(12, 'admin', 0)
    await producer.send({ topic, messages })
    await producer.disconnect()
    const consumer = kafka.consumer({ groupId: 'admin-reader', maxWaitTimeInMs: 200 })
    await consumer.connect()
    const records = await consumeCount(consumer, topic, 12)
    await consumer.disconnect()
    expect(byPosition(records)).toEqual(messages.map((m, i) => expected(m, 0, i)))

    await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] })
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets.map((o) => [o.partition, o.offset])).toEqual([[0, '12'], [1, '0'],
      [2, '0'], [3, '0']])

    await admin.deleteTopics({ topics: [topic, 'admin-default'] })
    const remaining = await admin.listTopics()
    expect(remaining).not.toContain(topic)
    expect(remaining).not.toContain('admin-default')
    expect(remaining).toContain('admin-three')
    expect(await fixture.log.listTopics()).not.toContain(topic)
  })
})
