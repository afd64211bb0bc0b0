// Proves `sluice.listen`: the broker serves the Sluice's own Log and shares its group
// coordinator with the embedded clients, so records an embedded producer wrote reach a kafkajs
// consumer exactly, and the offsets that consumer commits are what the embedded admin reads.
// Closing the Sluice closes its broker.
import * as net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Sluice } from '../../src/client/sluice.js'
import { tempDir } from '../helpers.js'
import { byPosition, consumeCount, expected, kafkaFor, sampleMessages }
  from './kafkajs-helpers.js'

const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function openSluice(): Sluice {
  const { dir, remove } = tempDir('sluice-listen-')
  const sluice = new Sluice({ dataDir: dir, shards: 1 })
  cleanups.push(remove, () => sluice.close())
  return sluice
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(false) })
    socket.once('error', () => resolve(true))
  })
}

describe('sluice.listen', () => {
  it('shares the Log and the group coordinator with embedded clients', async () => {
    const sluice = openSluice()
    const broker = await sluice.listen({ port: 0 })
    expect(broker.port).toBeGreaterThan(0)
    expect(broker.address).toBe('127.0.0.1')

    const admin = sluice.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: 'shared', numPartitions: 1 }] })
    const producer = sluice.producer()
    await producer.connect()
    const messages = sampleMessages(8, 'embedded', 0)
    await producer.send({ topic: 'shared', messages })
    await producer.disconnect()

    const consumer = kafkaFor(broker.port, 'listen-test')
      .consumer({ groupId: 'shared-group', maxWaitTimeInMs: 200 })
    await consumer.connect()
    const records = await consumeCount(consumer, 'shared', 8)
    await consumer.disconnect()
    expect(byPosition(records)).toEqual(messages.map((m, i) => expected(m, 0, i)))

    const committed = await admin.fetchOffsets({ groupId: 'shared-group', topics: ['shared'] })
    expect(committed).toEqual([{ topic: 'shared',
      partitions: [expect.objectContaining({ partition: 0, offset: '8' })] }])
    await admin.disconnect()

    await broker.close()
    expect(await connectRefused(broker.port)).toBe(true)
  })

  it('stops the broker when the Sluice closes', async () => {
    const sluice = openSluice()
    const broker = await sluice.listen({ port: 0 })
    expect(await connectRefused(broker.port)).toBe(false)
    await sluice.close()
    expect(await connectRefused(broker.port)).toBe(true)
  })
})
