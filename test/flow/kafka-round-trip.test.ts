// Proves the Kafka sink and source carry events through a log and back, over TCP (kafkajs
// against a sluice broker) and in-process (`embedded:`), with one code path: bodies in order,
// the headers Flume's source sets, the group's offsets committed; useFlumeEventFormat keeping
// the headers (and writing plain Avro binary, as Flume does); the topic header and %{header}
// escapes choosing the topic; a topic pattern matching whole names only, and new topics that
// match it picked up while the source runs.
import { afterEach, describe, expect, it } from 'vitest'
import { avroFlumeEventType } from '../../src/flow/avro/flume-event-schema.js'
import { makeEvent, type FlowEvent } from '../../src/flow/event.js'
import { KafkaSource } from '../../src/flow/kafka/kafka-source.js'
import { until } from '../helpers.js'
import {
  committedOffset, drain, memoryChannel, openTestLog, putEvents, range, sinkAgentConf,
  sourceAgentConf, startAgent, type AgentUnderTest, type TestLog, type Transport,
} from './kafka-helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function logFor(transport: Transport): Promise<TestLog> {
  const log = await openTestLog(transport)
  cleanups.push(() => log.close())
  return log
}

async function agent(lines: string[]): Promise<AgentUnderTest> {
  const running = await startAgent(lines)
  cleanups.push(() => running.agent.stop())
  return running
}

/** Starts a sink agent, hands it `events`, and waits until it delivered them all. */
async function deliver(log: TestLog, settings: string[], events: FlowEvent[]): Promise<void> {
  const sink = await agent(sinkAgentConf(log.servers, settings, memoryChannel(1000, 100)))
  await putEvents(sink.channel, events)
  const counter = sink.agent.graph.sinks.get('k1')!.counter
  await until(`${events.length} events produced`,
    () => counter.get('EventDrainSuccessCount') === events.length, 30_000)
  await sink.agent.stop()
}

function source(log: TestLog, group: string, settings: string[]): Promise<AgentUnderTest> {
  return agent(sourceAgentConf(log.servers, [`kafka.consumer.group.id = ${group}`,
    'kafka.consumer.auto.offset.reset = earliest', 'batchSize = 100', ...settings],
  memoryChannel(1000, 100)))
}

const TRANSPORTS = ['tcp', 'embedded'] as const

describe.each(TRANSPORTS)('kafka sink → log → kafka source (%s)', (transport) => {
  it('delivers every event in order with Flume\'s headers and commits the offsets', async () => {
    const log = await logFor(transport)
    const count = 250
    const events = range(0, count, 'e').map((body, i) =>
      makeEvent(body, i % 2 === 0 ? { key: `k${i % 3}` } : {}))
    await deliver(log, ['kafka.topic = rt', 'flumeBatchSize = 50'], events)

    const reader = await source(log, 'g-rt', ['kafka.topics = rt'])
    const taken = await drain(reader.channel, count)
    expect(taken.map((e) => e.body)).toEqual(range(0, count, 'e'))
    taken.forEach((event, i) => expect(event.headers).toEqual({
      timestamp: expect.stringMatching(/^\d{13}$/), topic: 'rt', partition: '0',
      offset: String(i), ...(i % 2 === 0 ? { key: `k${i % 3}` } : {}),
    }))
    await until('offset 250 committed', async () =>
      await committedOffset(log.sluice, 'g-rt', 'rt') === count, 30_000)
    const counter = reader.agent.graph.sources.get('r1')!.counter
    expect(counter.get('EventAcceptedCount')).toBe(count)
    expect(counter.get('ChannelWriteFail')).toBe(0)
  })

  it('useFlumeEventFormat keeps the headers, and the value is plain Avro binary', async () => {
    const log = await logFor(transport)
    const events = range(0, 20, 'avro-').map((body, i) => makeEvent(body,
      { app: 'web', 'x.y': `v${i}`, timestamp: String(1_000 + i), topic: 'avro-t' }))
    await deliver(log, ['kafka.topic = avro-t', 'useFlumeEventFormat = true'], events)

    const flume = await source(log, 'g-avro', ['kafka.topics = avro-t',
      'useFlumeEventFormat = true'])
    const taken = await drain(flume.channel, 20)
    taken.forEach((event, i) => {
      expect(event.body).toBe(`avro-${i}`)
      // The sender's own timestamp and topic stay; partition and offset are added.
      expect(event.headers).toEqual({ ...events[i]!.headers, partition: '0', offset: String(i) })
    })

    const raw = await source(log, 'g-raw', ['kafka.topics = avro-t'])
    const rawTaken = await drain(raw.channel, 20)
    rawTaken.forEach((event, i) => {
      expect(avroFlumeEventType.fromBuffer(event.bytes)).toEqual(
        { headers: events[i]!.headers, body: Buffer.from(`avro-${i}`) })
    })
  })

  it('routes by topic header and %{header} escapes; a pattern matches whole names', async () => {
    const log = await logFor(transport)
    await deliver(log, ['kafka.topic = t-default'], [
      ...range(0, 3, 'a').map((b) => makeEvent(b, { topic: 't-a' })),
      ...range(0, 2, 'b').map((b) => makeEvent(b, { topic: 't-b' })),
      makeEvent('plain'),
    ])
    // Without the override the topic header is ignored and kafka.topic's escapes are filled.
    await deliver(log, ['kafka.topic = t-%{app}', 'allowTopicOverride = false'],
      [makeEvent('ab0', { app: 'ab', topic: 't-a' })])

    const pattern = await source(log, 'g-pattern', ['kafka.topics.regex = t-[ab]'])
    const matched = await drain(pattern.channel, 5)
    const byTopic = (topic: string) => matched.filter((e) => e.headers.topic === topic)
    expect(byTopic('t-a').map((e) => e.body)).toEqual(['a0', 'a1', 'a2'])
    expect(byTopic('t-b').map((e) => e.body)).toEqual(['b0', 'b1'])
    const patternSource = pattern.agent.graph.sources.get('r1') as KafkaSource
    expect(patternSource.subscribedTopics).toEqual(['t-a', 't-b'])

    const rest = await source(log, 'g-rest', ['kafka.topics = t-ab, t-default'])
    const others = await drain(rest.channel, 2)
    expect(others.map((e) => [e.headers.topic, e.body]).sort())
      .toEqual([['t-ab', 'ab0'], ['t-default', 'plain']])
  })

  it('picks up topics created later that match the pattern', async () => {
    const log = await logFor(transport)
    const late = await source(log, 'g-late', ['kafka.topics.regex = late-.*',
      'kafka.consumer.metadata.max.age.ms = 100'])
    await deliver(log, ['kafka.topic = late-a'], [makeEvent('a0')])
    expect((await drain(late.channel, 1)).map((e) => [e.headers.topic, e.body]))
      .toEqual([['late-a', 'a0']])
    await deliver(log, ['kafka.topic = late-b'], [makeEvent('b0'), makeEvent('b1')])
    expect((await drain(late.channel, 2)).map((e) => [e.headers.topic, e.body]))
      .toEqual([['late-b', 'b0'], ['late-b', 'b1']])
    expect((late.agent.graph.sources.get('r1') as KafkaSource).subscribedTopics)
      .toEqual(['late-a', 'late-b'])
  })
})
