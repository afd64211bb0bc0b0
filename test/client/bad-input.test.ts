// Proves bad input gets kafkajs's errors — class name, retriable flag, Kafka code and type — for
// unknown topics, invalid configs, messages too large and calls after disconnect, and that a
// refused message does not disturb others sent beside it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CompressionTypes, type SluiceAdmin, type SluiceProducer } from '../../src/index.js'
import { sluiceScratch, type SluiceScratch } from './client-helpers.js'

let scratch: SluiceScratch
let admin: SluiceAdmin
let producer: SluiceProducer

beforeEach(async () => {
  scratch = sluiceScratch()
  admin = scratch.sluice.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'small', numPartitions: 2,
    configEntries: [{ name: 'max.message.bytes', value: '1024' }] }] })
  producer = scratch.sluice.producer()
  await producer.connect()
})

afterEach(async () => {
  await scratch.cleanup()
})

interface Expected {
  name: string
  retriable: boolean
  type?: string
  code?: number
  message?: RegExp
}

async function expectKafkaError(action: Promise<unknown> | (() => unknown), expected: Expected) {
  let caught: unknown = null
  try {
    await (typeof action === 'function' ? action() : action)
  } catch (error) {
    caught = error
  }
  expect(caught, 'expected an error').toBeInstanceOf(Error)
  expect(caught).toMatchObject({ name: expected.name, retriable: expected.retriable,
    ...(expected.type !== undefined ? { type: expected.type, code: expected.code } : {}) })
  if (expected.message !== undefined) expect((caught as Error).message).toMatch(expected.message)
}

const protocol = (type: string, code: number, retriable: boolean): Expected =>
  ({ name: 'KafkaJSProtocolError', type, code, retriable })

describe('producer', () => {
  it('refuses unknown topics and partitions', async () => {
    const strict = scratch.sluice.producer({ allowAutoTopicCreation: false })
    await strict.connect()
    await expectKafkaError(strict.send({ topic: 'nope', messages: [{ value: 'x' }] }),
      protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true))
    await strict.disconnect()
    await expectKafkaError(
      producer.send({ topic: 'small', messages: [{ value: 'x', partition: 9 }] }),
      protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true))
  })

  it('refuses a message larger than the topic takes, without failing its neighbours', async () => {
    const big = producer.send({ topic: 'small',
      messages: [{ value: 'x'.repeat(2000), partition: 0 }] })
    const fine = producer.send({ topic: 'small', messages: [{ value: 'ok', partition: 0 }] })
    await expectKafkaError(big, protocol('MESSAGE_TOO_LARGE', 10, false))
    expect((await fine)[0]).toMatchObject({ partition: 0, baseOffset: '0' })
  })

  it('refuses malformed sends with non-retriable errors', async () => {
    await expectKafkaError(producer.send({ topic: 'small', messages: [{ key: 'k' } as never] }),
      { name: 'KafkaJSNonRetriableError', retriable: false, message: /without value/ })
    await expectKafkaError(producer.send({ topic: 'small', messages: [{ value: 'x' }], acks: 2 }),
      protocol('INVALID_REQUIRED_ACKS', 21, false))
    await expectKafkaError(producer.send({ topic: 'small', messages: [{ value: 'x' }],
      compression: CompressionTypes.Snappy }), { name: 'KafkaJSNotImplemented', retriable: false })
    await expectKafkaError(producer.send({ topic: 'small',
      messages: [{ value: 'x', timestamp: 'yesterday' }] }),
    { name: 'KafkaJSNonRetriableError', retriable: false })
    await expectKafkaError(() => scratch.sluice.producer({ lingerMs: -1 }),
      { name: 'KafkaJSNonRetriableError', retriable: false, message: /lingerMs/ })
  })

  it('refuses sends after disconnect, as kafkajs does', async () => {
    await producer.disconnect()
    await expectKafkaError(producer.send({ topic: 'small', messages: [{ value: 'x' }] }),
      { name: 'KafkaJSError', retriable: true, message: /disconnected/ })
  })
})

describe('admin', () => {
  it('refuses invalid topic configs with Kafka\'s codes', async () => {
    const create = (topic: object) => admin.createTopics({ topics: [topic as never] })
    await expectKafkaError(create({ topic: 't1', configEntries: [{ name: 'cleanup.policy',
      value: 'compact' }] }), protocol('INVALID_CONFIG', 40, false))
    await expectKafkaError(create({ topic: 't2', configEntries: [{ name: 'retention.ms',
      value: 'soon' }] }), protocol('INVALID_CONFIG', 40, false))
    await expectKafkaError(create({ topic: 't3', numPartitions: 0 }),
      protocol('INVALID_PARTITIONS', 37, false))
    await expectKafkaError(create({ topic: 't4', replicationFactor: 3 }),
      protocol('INVALID_REPLICATION_FACTOR', 38, false))
    await expectKafkaError(create({ topic: 'bad name!' }),
      protocol('INVALID_TOPIC_EXCEPTION', 17, false))
    expect(await admin.createTopics({ topics: [{ topic: 'small' }] })).toBe(false)
    expect(await admin.listTopics()).not.toContain('t1')
  })

  it('refuses unknown topics, shrinking partitions and deleting unknown groups',
    async () => {
      await expectKafkaError(admin.deleteTopics({ topics: ['nope'] }),
        protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true))
      await expectKafkaError(admin.fetchTopicOffsets('nope'),
        protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true))
      await expectKafkaError(
        admin.createPartitions({ topicPartitions: [{ topic: 'small', count: 1 }] }),
        protocol('INVALID_PARTITIONS', 37, false))
      let caught: unknown = null
      await admin.deleteGroups(['ghost']).catch((error: unknown) => { caught = error })
      expect(caught).toMatchObject({ name: 'KafkaJSDeleteGroupsError',
        groups: [{ groupId: 'ghost', errorCode: 69, error: { type: 'GROUP_ID_NOT_FOUND' } }] })
    })

  it('refuses to move the offsets of a running group, and every call after disconnect',
    async () => {
      const consumer = scratch.sluice.consumer({ groupId: 'busy' })
      await consumer.connect()
      await consumer.subscribe({ topic: 'small' })
      await consumer.run({ eachMessage: async () => undefined })
      await expectKafkaError(admin.setOffsets({ groupId: 'busy', topic: 'small',
        partitions: [{ partition: 0, offset: '0' }] }),
      { name: 'KafkaJSNonRetriableError', retriable: false, message: /no running instances/ })
      await expect(admin.deleteGroups(['busy'])).rejects.toMatchObject({
        groups: [{ groupId: 'busy', errorCode: 68, error: { type: 'NON_EMPTY_GROUP' } }] })
      await consumer.disconnect()
      await admin.setOffsets({ groupId: 'busy', topic: 'small',
        partitions: [{ partition: 1, offset: '0' }] })
      await admin.disconnect()
      await expectKafkaError(admin.listTopics(),
        { name: 'KafkaJSError', retriable: false, message: /not connected/ })
    })
})

describe('consumer', () => {
  it('refuses bad configs when built', () => {
    expect(() => scratch.sluice.consumer({ groupId: '' })).toThrow(
      expect.objectContaining({ name: 'KafkaJSNonRetriableError' }))
    expect(() => scratch.sluice.consumer({ groupId: 'g', sessionTimeout: 3000,
      heartbeatInterval: 3000 })).toThrow(/heartbeatInterval/)
  })

  it('refuses a session timeout the coordinator does not allow, and unknown topics', async () => {
    const consumer = scratch.sluice.consumer({ groupId: 'g', sessionTimeout: 1000,
      heartbeatInterval: 100, allowAutoTopicCreation: false })
    await consumer.connect()
    await expectKafkaError(consumer.subscribe({ topic: 'nope' }),
      protocol('UNKNOWN_TOPIC_OR_PARTITION', 3, true))
    await consumer.subscribe({ topic: 'small' })
    await expectKafkaError(consumer.run({ eachMessage: async () => undefined }),
      protocol('INVALID_SESSION_TIMEOUT', 26, false))
    await consumer.disconnect()
  })

  it('refuses group calls before run and every call after disconnect', async () => {
    const consumer = scratch.sluice.consumer({ groupId: 'g' })
    await expectKafkaError(consumer.subscribe({ topic: 'small' }),
      { name: 'KafkaJSError', retriable: false, message: /not connected/ })
    await consumer.connect()
    await consumer.subscribe({ topic: 'small' })
    await expectKafkaError(() => consumer.seek({ topic: 'small', partition: 0, offset: '0' }),
      { name: 'KafkaJSNonRetriableError', retriable: false, message: /consumer#run/ })
    await expectKafkaError(() => consumer.seek({ topic: 'small', partition: 0, offset: 'x' }),
      { name: 'KafkaJSNonRetriableError', retriable: false, message: /Invalid offset/ })
    await consumer.disconnect()
    await expectKafkaError(consumer.run({ eachMessage: async () => undefined }),
      { name: 'KafkaJSError', retriable: false, message: /not connected/ })
    await expectKafkaError(consumer.fetch(),
      { name: 'KafkaJSError', retriable: false, message: /not connected/ })
  })
})
