// Proves the kafkajs instrumentation events a consumer and producer emit in a normal life, with
// kafkajs's names and payload fields, and that gzip and LZ4 sends (and a topic that compresses
// on its own) read back unchanged.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CompressionTypes, type SluiceProducer } from '../../src/index.js'
import { sluiceScratch, waitFor, type SluiceScratch } from './client-helpers.js'

let scratch: SluiceScratch
let producer: SluiceProducer

beforeEach(async () => {
  scratch = sluiceScratch()
  const admin = scratch.sluice.admin()
  await admin.connect()
  await admin.createTopics({ topics: [
    { topic: 'plain', numPartitions: 1 },
    { topic: 'squeezed', numPartitions: 1,
      configEntries: [{ name: 'compression.type', value: 'lz4' }] },
  ] })
  producer = scratch.sluice.producer()
  await producer.connect()
})

afterEach(async () => {
  await scratch.cleanup()
})

async function readAll(topic: string, count: number): Promise<string[]> {
  const consumer = scratch.sluice.consumer({ groupId: `read-${topic}` })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const values: string[] = []
  while (values.length < count) {
    const batches = await consumer.fetch({ maxWaitMs: 5_000 })
    if (batches.length === 0) throw new Error(`only ${values.length}/${count} messages`)
    for (const batch of batches) values.push(...batch.messages.map((m) => m.value!.toString()))
  }
  await consumer.disconnect()
  return values
}

describe('compression', () => {
  it('reads back gzip and LZ4 batches and topic-side LZ4 unchanged', async () => {
    const text = (i: number) => `record ${i} `.repeat(20)
    await producer.send({ topic: 'plain', compression: CompressionTypes.GZIP,
      messages: [0, 1, 2].map((i) => ({ value: text(i) })) })
    await producer.send({ topic: 'plain', compression: CompressionTypes.LZ4,
      messages: [3, 4].map((i) => ({ value: text(i) })) })
    await producer.send({ topic: 'squeezed', messages: [5, 6].map((i) => ({ value: text(i) })) })
    expect(await readAll('plain', 5)).toEqual([0, 1, 2, 3, 4].map(text))
    expect(await readAll('squeezed', 2)).toEqual([5, 6].map(text))
  })
})

describe('events', () => {
  it('emits the consumer life cycle with kafkajs payloads', async () => {
    const consumer = scratch.sluice.consumer({ groupId: 'watched', heartbeatInterval: 50 })
    const seen = new Map<string, unknown[]>()
    const all = waitFor('heartbeat, commit and batch events', () =>
      ['consumer.heartbeat', 'consumer.commit_offsets', 'consumer.end_batch_process']
        .every((type) => seen.has(type)))
    for (const name of Object.values(consumer.events)) {
      consumer.on(name, (event) => {
        expect(event.type).toBe(name)
        seen.set(name, [...(seen.get(name) ?? []), event.payload])
        all.poke()
      })
    }
    expect(() => consumer.on('consumer.nonsense', () => undefined))
      .toThrow(expect.objectContaining({ name: 'KafkaJSNonRetriableError' }))
    await consumer.connect()
    await consumer.subscribe({ topic: 'plain' })
    await consumer.run({ eachMessage: async () => undefined })
    await producer.send({ topic: 'plain', messages: [{ value: 'x' }] })
    await all.done
    await consumer.disconnect()
    for (const type of ['consumer.connect', 'consumer.group_join', 'consumer.fetch',
      'consumer.start_batch_process', 'consumer.stop', 'consumer.disconnect']) {
      expect(seen.has(type), type).toBe(true)
    }
    expect(seen.get('consumer.group_join')![0]).toMatchObject({ groupId: 'watched',
      isLeader: true, groupProtocol: 'RoundRobinAssigner', memberAssignment: { plain: [0] } })
    expect(seen.get('consumer.end_batch_process')![0]).toMatchObject({ topic: 'plain',
      partition: 0, batchSize: 1, firstOffset: '0', lastOffset: '0', highWatermark: '1' })
    expect(seen.get('consumer.commit_offsets')![0]).toMatchObject({ groupId: 'watched',
      topics: [{ topic: 'plain', partitions: [{ partition: 0, offset: '1' }] }] })
    expect(seen.get('consumer.heartbeat')![0]).toMatchObject({ groupId: 'watched' })
  })

  it('emits producer connect and disconnect', async () => {
    const other = scratch.sluice.producer()
    const types: string[] = []
    other.on(other.events.CONNECT, (e) => { types.push(e.type) })
    other.on(other.events.DISCONNECT, (e) => { types.push(e.type) })
    await other.connect()
    await other.disconnect()
    expect(types).toEqual(['producer.connect', 'producer.disconnect'])
  })
})
