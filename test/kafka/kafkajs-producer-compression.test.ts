// Proves that a kafkajs 2.2.4 producer using gzip and using lz4 (through an lz4-napi frame
// codec) stores its batches as sent (still compressed, same codec) and that a kafkajs consumer
// reads back exactly the keys, values, headers, timestamps and offsets produced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import kafkajs from 'kafkajs'
import { CODEC_MASK, Codec, Field } from '../../src/format/batch-header.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import {
  byPosition, consumeCount, expected, kafkaFor, registerLz4Codec, sampleMessages,
} from './kafkajs-helpers.js'

const { CompressionTypes } = kafkajs

let fixture: BrokerFixture

beforeAll(async () => {
  registerLz4Codec()
  fixture = await openBroker()
})

afterAll(async () => {
  await fixture.close()
})

describe.each([
  { name: 'gzip', compression: CompressionTypes.GZIP, codec: Codec.gzip },
  { name: 'lz4', compression: CompressionTypes.LZ4, codec: Codec.lz4 },
])('kafkajs producer with $name', ({ name, compression, codec }) => {
  it('round-trips records exactly and stores the batches as compressed', async () => {
    const topic = `compressed-${name}`
    const kafka = kafkaFor(fixture.port, `producer-${name}`)
    const producer = kafka.producer()
    await producer.connect()
    const first = sampleMessages(25, `${name}-a`, 0)
    const second = sampleMessages(15, `${name}-b`, 0)
    const [sentA] = await producer.send({ topic, compression, messages: first, acks: -1 })
    const [sentB] = await producer.send({ topic, compression, messages: second, acks: 1 })
    await producer.disconnect()
    expect(sentA).toMatchObject({ topicName: topic, partition: 0, errorCode: 0,
      baseOffset: '0' })
    expect(sentB).toMatchObject({ baseOffset: '25' })

    const stored = await fixture.log.readBatches(topic, 0, 0, { maxBytes: 1 << 20 })
    expect(stored.batches.length).toBe(2)
    for (const batch of stored.batches) {
      expect(batch.readInt16BE(Field.attributes) & CODEC_MASK).toBe(codec)
    }

    const consumer = kafka.consumer({ groupId: `reader-${name}`, maxWaitTimeInMs: 200 })
    await consumer.connect()
    const records = await consumeCount(consumer, topic, 40)
    await consumer.disconnect()
    const produced = [...first, ...second].map((m, offset) => expected(m, 0, offset))
    expect(byPosition(records)).toEqual(produced)
  })
})
