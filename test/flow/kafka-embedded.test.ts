// Proves two agents in one process with `embedded:<dir>` on the same directory share one Log:
// the sink agent's records reach the source agent with no broker, both hold a lease on the same
// Sluice as the test, stopping the agents gives their leases back without closing the log a
// third party still holds, and the last release closes it (the next lease opens a new one that
// finds the records on disk).
import { afterEach, expect, it } from 'vitest'
import type { Sluice } from '../../src/client/sluice.js'
import { makeEvent } from '../../src/flow/event.js'
import { acquireEmbeddedSluice } from '../../src/flow/kafka/embedded-sluice.js'
import { tempDir } from '../helpers.js'
import {
  drain, memoryChannel, putEvents, range, sinkAgentConf, sourceAgentConf, startAgent,
} from './kafka-helpers.js'

const scratch = tempDir('sluice-kafka-embedded-')
afterEach(() => scratch.remove())

async function highWatermark(sluice: Sluice, topic: string): Promise<string> {
  const admin = sluice.admin()
  await admin.connect()
  try {
    const [partition] = await admin.fetchTopicOffsets(topic)
    return partition!.high
  } finally {
    await admin.disconnect()
  }
}

it('shares one log between two agents and the program, and the last lease closes it', async () => {
  const servers = `embedded:${scratch.dir}`
  const ours = acquireEmbeddedSluice(scratch.dir)
  const sink = await startAgent(sinkAgentConf(servers, ['kafka.topic = shared'],
    memoryChannel(100, 100)))
  const source = await startAgent(sourceAgentConf(servers, ['kafka.topics = shared',
    'kafka.consumer.auto.offset.reset = earliest', 'batchSize = 100'], memoryChannel(100, 100)))
  try {
    await putEvents(sink.channel, range(0, 40, 'm').map((body) => makeEvent(body)))
    const taken = await drain(source.channel, 40)
    expect(taken.map((e) => e.body)).toEqual(range(0, 40, 'm'))

    const another = acquireEmbeddedSluice(scratch.dir)
    expect(another.sluice).toBe(ours.sluice)
    await another.release()
    expect(await highWatermark(ours.sluice, 'shared')).toBe('40')
  } finally {
    await source.agent.stop()
    await sink.agent.stop()
  }
  // The agents' leases are back; ours keeps the log open.
  expect(await highWatermark(ours.sluice, 'shared')).toBe('40')
  await ours.release()

  const reopened = acquireEmbeddedSluice(scratch.dir)
  try {
    expect(reopened.sluice).not.toBe(ours.sluice)
    expect(await highWatermark(reopened.sluice, 'shared')).toBe('40')
  } finally {
    await reopened.release()
  }
})
