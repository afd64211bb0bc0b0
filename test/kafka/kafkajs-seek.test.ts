// Proves kafkajs 2.2.4's consumer.seek against the broker: after reading a partition to its
// end, seeking back replays exactly the records from the sought offset on (the broker serves
// the batch holding that offset; the client drops the earlier records of that batch), and
// a second seek lands inside another batch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Kafka } from 'kafkajs'
import { until } from '../helpers.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { exact, expected, kafkaFor, sampleMessages, type ExactRecord } from './kafkajs-helpers.js'

const TOPIC = 'seekable'

let fixture: BrokerFixture
let kafka: Kafka

beforeAll(async () => {
  fixture = await openBroker()
  kafka = kafkaFor(fixture.port, 'seek-test')
})

afterAll(async () => {
  await fixture.close()
})

describe('kafkajs seek', () => {
  it('replays exactly from the sought offsets', async () => {
    const producer = kafka.producer()
    await producer.connect()
    // Three batches, so seeks land inside batches, not only on their boundaries.
    const messages = sampleMessages(40, 'seek', 0)
    for (let i = 0; i < 40; i += 10) {
      await producer.send({ topic: TOPIC, messages: messages.slice(i, i + 10) })
    }
    const all = messages.map((m, offset) => expected(m, 0, offset))

    const consumer = kafka.consumer({ groupId: 'seeker', maxWaitTimeInMs: 200 })
    await consumer.connect()
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
    const records: ExactRecord[] = []
    await consumer.run({ eachMessage: async (payload) => void records.push(exact(payload)) })
    await until('the partition read to its end', () => records.length === 40)
    expect(records).toEqual(all)

    consumer.seek({ topic: TOPIC, partition: 0, offset: '13' })
    await until('the replay from 13', () => records.length === 40 + 27)
    expect(records.slice(40)).toEqual(all.slice(13))

    consumer.seek({ topic: TOPIC, partition: 0, offset: '36' })
    await until('the replay from 36', () => records.length === 67 + 4)
    expect(records.slice(67)).toEqual(all.slice(36))
    await consumer.disconnect()
    await producer.disconnect()
  })
})
