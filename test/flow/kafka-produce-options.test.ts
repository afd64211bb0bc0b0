// Proves kafka.producer.compression.type reaches the wire: the broker stores the Kafka sink's
// batches with the codec asked for (gzip, or lz4 through the codec the agents register with
// kafkajs), and a Kafka source over TCP reads them back; and that the sink's partition,
// timestamp and header mappings (defaultPartitionId, partitionIdHeader, timestampHeader,
// header.<flume> = <kafka>) come back through the source's own mappings; and that acks = 0
// (no answer from the broker) still delivers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CODEC_MASK, Codec, Field } from '../../src/format/batch-header.js'
import { makeEvent } from '../../src/flow/event.js'
import { until } from '../helpers.js'
import { openBroker, type BrokerFixture } from '../kafka/broker-fixture.js'
import {
  drain, memoryChannel, putEvents, range, sinkAgentConf, sourceAgentConf, startAgent,
  type AgentUnderTest,
} from './kafka-helpers.js'

let fixture: BrokerFixture
let servers: string
beforeAll(async () => {
  fixture = await openBroker()
  servers = `127.0.0.1:${fixture.port}`
})
afterAll(async () => {
  await fixture.close()
})

async function sinkDelivering(settings: string[], events: ReturnType<typeof makeEvent>[])
  : Promise<void> {
  const sink = await startAgent(sinkAgentConf(servers, settings, memoryChannel(1000, 100)))
  try {
    await putEvents(sink.channel, events)
    const counter = sink.agent.graph.sinks.get('k1')!.counter
    await until('all produced', () => counter.get('EventDrainSuccessCount') === events.length,
      30_000)
  } finally {
    await sink.agent.stop()
  }
}

async function sourceReading(settings: string[]): Promise<AgentUnderTest> {
  return startAgent(sourceAgentConf(servers, ['kafka.consumer.auto.offset.reset = earliest',
    'batchSize = 100', ...settings], memoryChannel(1000, 100)))
}

describe.each([
  { name: 'gzip', codec: Codec.gzip },
  { name: 'lz4', codec: Codec.lz4 },
])('kafka.producer.compression.type = $name', ({ name, codec }) => {
  it('stores the batches compressed and reads them back', async () => {
    const topic = `zipped-${name}`
    const bodies = range(0, 60, `${name}-${'x'.repeat(40)}-`)
    await sinkDelivering([`kafka.topic = ${topic}`, `kafka.producer.compression.type = ${name}`,
      'flumeBatchSize = 30'], bodies.map((body) => makeEvent(body)))
    const stored = await fixture.log.readBatches(topic, 0, 0, { maxBytes: 1 << 20 })
    expect(stored.batches.length).toBe(2)
    for (const batch of stored.batches) {
      expect(batch.readInt16BE(Field.attributes) & CODEC_MASK).toBe(codec)
    }
    const reader = await sourceReading([`kafka.topics = ${topic}`,
      `kafka.consumer.group.id = g-${name}`])
    try {
      expect((await drain(reader.channel, 60)).map((e) => e.body)).toEqual(bodies)
    } finally {
      await reader.agent.stop()
    }
  })
})

it('maps partitions, timestamps and headers both ways', async () => {
  const admin = (await import('kafkajs')).default
  const kafka = new admin.Kafka({ brokers: [servers], logLevel: admin.logLevel.NOTHING })
  const topicAdmin = kafka.admin()
  await topicAdmin.connect()
  await topicAdmin.createTopics({ topics: [{ topic: 'mapped', numPartitions: 3 }] })
  await topicAdmin.disconnect()

  await sinkDelivering(['kafka.topic = mapped', 'defaultPartitionId = 2',
    'partitionIdHeader = p', 'timestampHeader = when', 'header.trace = x-trace'], [
    makeEvent('to-2', { trace: 't0', when: '1700000000000' }),
    makeEvent('to-1', { p: '1', when: 'not a time' }),
  ])
  const reader = await sourceReading(['kafka.topics = mapped', 'kafka.consumer.group.id = g-map',
    'header.traced = x-trace'])
  try {
    const taken = await drain(reader.channel, 2)
    const byBody = new Map(taken.map((e) => [e.body, e.headers]))
    expect(byBody.get('to-2')).toMatchObject({ partition: '2', timestamp: '1700000000000',
      traced: 't0' })
    expect(byBody.get('to-1')!.partition).toBe('1')
    expect(byBody.get('to-1')!.traced).toBeUndefined()
    // An unreadable timestampHeader falls back to the produce time, as in Flume.
    expect(Number(byBody.get('to-1')!.timestamp)).toBeGreaterThan(1_700_000_000_000)
  } finally {
    await reader.agent.stop()
  }
})

it('delivers with kafka.producer.acks = 0, where the broker sends no answer', async () => {
  const bodies = range(0, 30, 'fire-')
  await sinkDelivering(['kafka.topic = unacked', 'kafka.producer.acks = 0'],
    bodies.map((body) => makeEvent(body)))
  const reader = await sourceReading(['kafka.topics = unacked', 'kafka.consumer.group.id = g-0'])
  try {
    expect((await drain(reader.channel, 30)).map((e) => e.body)).toEqual(bodies)
  } finally {
    await reader.agent.stop()
  }
})
