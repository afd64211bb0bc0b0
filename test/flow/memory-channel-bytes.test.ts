// Proves the memory channel reads byteCapacity as Flume does: a value that comes to less than one
// 100-byte slot after the buffer percentage (0, or a tiny number) means no byte bound, so puts
// are accepted, and `byteCapacity = 0` is a valid setting in an agent file.
import { expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { capturingLogger, putAll, takeAll } from './flow-helpers.js'

const bodies = Array.from({ length: 20 }, (_, i) => `${i}-${'x'.repeat(1000)}`)

for (const byteCapacity of [0, 1, 99, 124]) {
  it(`byteCapacity ${byteCapacity} (under one slot after the 20% buffer) accepts puts`,
    async () => {
      const channel = new MemoryChannel('c', { capacity: 100, transactionCapacity: 100,
        byteCapacity, keepAliveSeconds: 0 })
      await putAll(channel, bodies)
      expect(await takeAll(channel, 100)).toEqual(bodies)
    })
}

it('byteCapacity of one slot after the buffer still bounds the bytes', async () => {
  const channel = new MemoryChannel('c', { capacity: 100, transactionCapacity: 100,
    byteCapacity: 125, keepAliveSeconds: 0 })
  await putAll(channel, ['x'.repeat(100)])
  await expect(putAll(channel, ['y'])).rejects.toMatchObject({ code: 'SLUICE_ERR_CHANNEL_FULL' })
})

it('an agent file with byteCapacity = 0 loads and its channel accepts puts', async () => {
  const agent = Agent.fromText(['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
    'a1.sources.r1.type = exec', 'a1.sources.r1.command = true', 'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory', 'a1.channels.c1.byteCapacity = 0',
    'a1.sinks.k1.type = null', 'a1.sinks.k1.channel = c1', ''].join('\n'), 'bytes.conf',
  { agentName: 'a1', logger: capturingLogger() })
  const channel = agent.graph.channels.get('c1')!
  await channel.start()
  await putAll(channel, bodies)
  expect(channel.size()).toBe(bodies.length)
  await channel.stop()
})
