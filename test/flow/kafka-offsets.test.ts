// Proves the Kafka source commits its group's offsets only after the channel committed the
// records, over TCP and embedded: with the channel full, the committed offset stops exactly at
// what the channel holds and the refused batch is put again (not skipped) once space frees up;
// a source stopped while refused and started again delivers the rest, nothing lost and nothing
// twice; a value that is not an AvroFlumeEvent is passed over, counted, and named in the log.
import { afterEach, describe, expect, it } from 'vitest'
import type { Sluice } from '../../src/client/sluice.js'
import { until } from '../helpers.js'
import {
  committedOffset, createTopic, drain, memoryChannel, openTestLog, range, sourceAgentConf,
  startAgent, type AgentUnderTest, type TestLog, type Transport,
} from './kafka-helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const RECORDS = 23
const CAPACITY = 10
const BATCH = 5

async function produce(sluice: Sluice, topic: string, values: (string | Buffer)[])
  : Promise<void> {
  await createTopic(sluice, topic)
  const producer = sluice.producer()
  await producer.connect()
  await producer.send({ topic, messages: values.map((value) => ({ value })) })
  await producer.disconnect()
}

async function fullSource(log: TestLog, topic: string, group: string, capacity = CAPACITY)
  : Promise<AgentUnderTest> {
  const running = await startAgent(sourceAgentConf(log.servers, [`kafka.topics = ${topic}`,
    `kafka.consumer.group.id = ${group}`, 'kafka.consumer.auto.offset.reset = earliest',
    `batchSize = ${BATCH}`], memoryChannel(capacity, BATCH)))
  cleanups.push(() => running.agent.stop())
  return running
}

/** Waits until the source has been refused at least twice: it is stuck on a full channel. */
async function refusedTwice(running: AgentUnderTest): Promise<void> {
  const counter = running.agent.graph.sources.get('r1')!.counter
  await until('the channel to refuse the source twice',
    () => counter.get('ChannelWriteFail') >= 2, 30_000)
}

describe.each(['tcp', 'embedded'] as const)('kafka source offsets (%s)', (transport: Transport) => {
  it('stops the committed offset at what the channel holds, then redelivers in order', async () => {
    const log = await openTestLog(transport)
    cleanups.push(() => log.close())
    await produce(log.sluice, 'full', range(0, RECORDS, 'r'))
    const running = await fullSource(log, 'full', 'g-full')
    await refusedTwice(running)

    const held = running.channel.size()
    expect(held).toBeGreaterThan(0)
    expect(held).toBeLessThanOrEqual(CAPACITY)
    // The invariant: the group's offset is exactly the channel's committed records, not more.
    expect(await committedOffset(log.sluice, 'g-full', 'full')).toBe(held)

    const taken = await drain(running.channel, RECORDS)
    expect(taken.map((e) => e.body)).toEqual(range(0, RECORDS, 'r'))
    expect(taken.map((e) => e.headers.offset)).toEqual(range(0, RECORDS))
    await until('offset 23 committed', async () =>
      await committedOffset(log.sluice, 'g-full', 'full') === RECORDS, 30_000)
  })

  it('a source stopped while refused loses nothing and repeats nothing when restarted',
    async () => {
      const log = await openTestLog(transport)
      cleanups.push(() => log.close())
      await produce(log.sluice, 'restart', range(0, RECORDS, 'r'))
      const first = await fullSource(log, 'restart', 'g-restart')
      await refusedTwice(first)
      await first.agent.stop()
      const held = first.channel.size()
      expect(await committedOffset(log.sluice, 'g-restart', 'restart')).toBe(held)
      const before = await drain(first.channel, held)

      const second = await fullSource(log, 'restart', 'g-restart', 100)
      const after = await drain(second.channel, RECORDS - held)
      expect([...before, ...after].map((e) => e.body)).toEqual(range(0, RECORDS, 'r'))
      await until('offset 23 committed', async () =>
        await committedOffset(log.sluice, 'g-restart', 'restart') === RECORDS, 30_000)
      expect(second.channel.size()).toBe(0)
    })

  it('passes over a value that is not an AvroFlumeEvent, naming its offset', async () => {
    const log = await openTestLog(transport)
    cleanups.push(() => log.close())
    const { encodeFlumeEvent } = await import('../../src/flow/kafka/flume-event-format.js')
    const good = (body: string) => encodeFlumeEvent({ headers: { h: body }, body:
      Buffer.from(body) })
    // Offset 1 claims 2^62 headers in 9 bytes: refused before anything is allocated.
    await produce(log.sluice, 'mixed', [good('a'), Buffer.from('ffffffffffffffff7f', 'hex'),
      good('b')])
    const running = await startAgent(sourceAgentConf(log.servers, ['kafka.topics = mixed',
      'kafka.consumer.group.id = g-mixed', 'kafka.consumer.auto.offset.reset = earliest',
      'useFlumeEventFormat = true', 'batchSize = 10'], memoryChannel(100, 10)))
    cleanups.push(() => running.agent.stop())
    const taken = await drain(running.channel, 2)
    expect(taken.map((e) => [e.body, e.headers.h, e.headers.offset]))
      .toEqual([['a', 'a', '0'], ['b', 'b', '2']])
    expect(running.agent.graph.sources.get('r1')!.counter.get('EventReadFail')).toBe(1)
    expect(running.logger.warnings.join('\n')).toMatch(/record mixed-0@1 passed over: not an Av/)
    await until('offset 3 committed', async () =>
      await committedOffset(log.sluice, 'g-mixed', 'mixed') === 3, 30_000)
  })
})
