// Proves topic auto-creation follows Kafka: a produce or subscribe to an unknown topic creates it
// (one partition) by default, and either the client (allowAutoTopicCreation: false) or the Sluice
// (Kafka's auto.create.topics.enable) can refuse it.
import { afterEach, expect, it } from 'vitest'
import { isSluiceError } from '../../src/index.js'
import { sluiceScratch, type SluiceScratch } from './client-helpers.js'

let scratch: SluiceScratch | null = null
afterEach(async () => {
  await scratch?.cleanup()
  scratch = null
})

it('creates an unknown topic on the first send and on subscribe, by default', async () => {
  scratch = sluiceScratch()
  const producer = scratch.sluice.producer()
  await producer.connect()
  const [sent] = await producer.send({ topic: 'fresh', messages: [{ value: 'v' }] })
  expect(sent).toMatchObject({ topicName: 'fresh', partition: 0, baseOffset: '0' })
  const consumer = scratch.sluice.consumer({ groupId: 'g' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'also-fresh' })
  const admin = scratch.sluice.admin()
  await admin.connect()
  expect((await admin.listTopics()).sort()).toEqual(expect.arrayContaining(['also-fresh', 'fresh']))
  const metadata = await admin.fetchTopicMetadata({ topics: ['fresh'] })
  expect(metadata.topics[0]!.partitions).toHaveLength(1)
})

it('refuses to create topics when the Sluice disallows it, whatever the client asks', async () => {
  scratch = sluiceScratch({ allowAutoTopicCreation: false })
  const producer = scratch.sluice.producer({ allowAutoTopicCreation: true })
  await producer.connect()
  const failure = await producer.send({ topic: 'fresh', messages: [{ value: 'v' }] })
    .catch((error: unknown) => error)
  expect(failure).toMatchObject({ name: 'KafkaJSProtocolError', type: 'UNKNOWN_TOPIC_OR_PARTITION',
    retriable: true })
  expect(isSluiceError(failure)).toBe(false)
  const admin = scratch.sluice.admin()
  await admin.connect()
  expect(await admin.listTopics()).not.toContain('fresh')
})
