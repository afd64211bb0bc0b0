// Proves the Kafka sink commits its take only after the produce is acknowledged: with the
// broker stopped, every attempt rolls back (the events stay at the head of the channel, in
// order) and, once the broker is back on its port, the sink reconnects by itself and delivers
// them all, once each; an event whose topic the log refuses stays in the channel, with the
// events behind it, and the failure names the topic; with no broker at all, a source and a
// sink agent start, keep their events, and stop cleanly.
import { afterEach, expect, it } from 'vitest'
import type { Sluice } from '../../src/client/sluice.js'
import { makeEvent } from '../../src/flow/event.js'
import { until } from '../helpers.js'
import {
  drain, memoryChannel, openTestLog, putEvents, range, sinkAgentConf, sourceAgentConf,
  startAgent,
} from './kafka-helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Every value in `topic`, read from the beginning by an embedded consumer, until `count`. */
async function readTopic(sluice: Sluice, topic: string, count: number): Promise<string[]> {
  const consumer = sluice.consumer({ groupId: `check-${topic}`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  const values: string[] = []
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => {
      values.push(message.value!.toString())
    } })
    await until(`${count} records in ${topic}`, () => values.length >= count, 30_000)
  } finally {
    await consumer.disconnect()
  }
  return values
}

it('rolls back while the broker is down and delivers everything once it is back', async () => {
  const log = await openTestLog('tcp')
  cleanups.push(() => log.close())
  const port = log.broker!.port
  const sink = await startAgent(sinkAgentConf(log.servers, ['kafka.topic = outage',
    'flumeBatchSize = 10', 'kafka.producer.acks = all', 'kafka.producer.retries = 1',
    'kafka.producer.retry.backoff.ms = 50', 'kafka.producer.request.timeout.ms = 2000'],
  memoryChannel(1000, 100)))
  cleanups.push(() => sink.agent.stop())
  const counter = sink.agent.graph.sinks.get('k1')!.counter

  await putEvents(sink.channel, range(0, 20, 'up').map((body) => makeEvent(body)))
  await until('the first 20 delivered', () => counter.get('EventDrainSuccessCount') === 20)
  await log.broker!.close()

  await putEvents(sink.channel, range(0, 30, 'down').map((body) => makeEvent(body)))
  await until('two failed produces', () => counter.get('EventWriteFail') >= 2, 60_000)
  expect(counter.get('EventDrainSuccessCount')).toBe(20)
  // Rolled back, not lost: between attempts the channel holds every event the sink took.
  await until('the failed takes back in the channel', () => sink.channel.size() === 30)
  expect(sink.logger.warnings.join('\n')).toMatch(/producing 10 events to outage at 127\.0\.0\.1/)

  await log.sluice.listen({ port })
  await until('all 50 delivered', () => counter.get('EventDrainSuccessCount') === 50, 60_000)
  expect(await readTopic(log.sluice, 'outage', 50))
    .toEqual([...range(0, 20, 'up'), ...range(0, 30, 'down')])
  expect(counter.get('ConnectionCreatedCount')).toBeGreaterThanOrEqual(2)
})

it('keeps an event whose topic the log refuses, and those behind it, in the channel', async () => {
  const log = await openTestLog('embedded')
  cleanups.push(() => log.close())
  const sink = await startAgent(sinkAgentConf(log.servers, ['kafka.topic = fine',
    'flumeBatchSize = 1'], memoryChannel(100, 10)))
  cleanups.push(() => sink.agent.stop())
  const counter = sink.agent.graph.sinks.get('k1')!.counter
  await putEvents(sink.channel, [makeEvent('ok-0'), makeEvent('refused', { topic: 'bad topic!' }),
    makeEvent('ok-1')])
  await until('the refused event failing twice', () => counter.get('EventWriteFail') >= 2)
  await sink.agent.stop()
  expect(counter.get('EventDrainSuccessCount')).toBe(1)
  expect(sink.logger.warnings.join('\n')).toMatch(/producing 1 events to bad topic! at embedded:/)
  const left = await drain(sink.channel, 2)
  expect(left.map((e) => e.body)).toEqual(['refused', 'ok-1'])
  expect(await readTopic(log.sluice, 'fine', 1)).toEqual(['ok-0'])
})

it('starts, keeps its events and stops cleanly while no broker answers', async () => {
  const log = await openTestLog('tcp')
  const servers = log.servers
  await log.close()
  const sink = await startAgent(sinkAgentConf(servers, ['kafka.topic = nowhere'],
    memoryChannel(100, 100)))
  const source = await startAgent(sourceAgentConf(servers, ['kafka.topics = nowhere'],
    memoryChannel(1000, 1000)))
  await putEvents(sink.channel, range(0, 5, 'kept').map((body) => makeEvent(body)))
  const counter = sink.agent.graph.sinks.get('k1')!.counter
  await until('the sink failing to connect twice', () =>
    counter.get('ConnectionFailedCount') >= 2, 30_000)
  await until('the source reporting the broker', () => source.logger.warnings.some((w) =>
    w.includes(`source r1: cannot consume from ${servers}`)), 30_000)
  await source.agent.stop()
  await sink.agent.stop()
  expect((await drain(sink.channel, 5)).map((e) => e.body)).toEqual(range(0, 5, 'kept'))
})
