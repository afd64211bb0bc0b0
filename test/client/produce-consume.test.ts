// Proves the embedded client end to end on a real Log: send/sendBatch return kafkajs's
// RecordMetadata, keys land where kafkajs's partitioner puts them, push (run) and pull (fetch)
// deliver every message in order with headers and timestamps, and seek/pause/resume work.
import { Partitioners } from 'kafkajs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KafkaMessage, SluiceAdmin, SluiceProducer } from '../../src/index.js'
import { sluiceScratch, waitFor, type SluiceScratch } from './client-helpers.js'

let scratch: SluiceScratch
let admin: SluiceAdmin
let producer: SluiceProducer

beforeEach(async () => {
  scratch = sluiceScratch()
  admin = scratch.sluice.admin()
  await admin.connect()
  producer = scratch.sluice.producer()
  await producer.connect()
})

afterEach(async () => {
  await scratch.cleanup()
})

describe('producer', () => {
  it('returns one RecordMetadata per partition with the offset of its first message', async () => {
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3,
      configEntries: [{ name: 'sluice.durability', value: 'os' }] }] })
    const first = await producer.send({ topic: 'orders', messages: [
      { partition: 0, value: 'a' }, { partition: 0, value: 'b' }, { partition: 2, value: 'c' },
    ] })
    expect(first).toEqual([
      { topicName: 'orders', partition: 0, errorCode: 0, baseOffset: '0', logAppendTime: '-1',
        logStartOffset: '0' },
      { topicName: 'orders', partition: 2, errorCode: 0, baseOffset: '0', logAppendTime: '-1',
        logStartOffset: '0' },
    ])
    const second = await producer.sendBatch({ topicMessages: [
      { topic: 'orders', messages: [{ partition: 0, value: 'd' }] },
    ] })
    expect(second[0]).toMatchObject({ partition: 0, baseOffset: '2' })
    expect(await admin.fetchTopicOffsets('orders')).toEqual([
      { partition: 0, offset: '3', high: '3', low: '0' },
      { partition: 1, offset: '0', high: '0', low: '0' },
      { partition: 2, offset: '1', high: '1', low: '0' },
    ])
  })

  it('puts each key on the partition kafkajs\'s DefaultPartitioner chooses', async () => {
    await admin.createTopics({ topics: [{ topic: 'keyed', numPartitions: 7 }] })
    const theirs = Partitioners.DefaultPartitioner()
    const partitionMetadata = Array.from({ length: 7 }, (_, partitionId) => ({
      partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
    const keys = Array.from({ length: 200 },
      (_, i) => (i % 2 === 0 ? `user-${i}` : `ключ-${i * 31}`))
    const results = await producer.send({ topic: 'keyed',
      messages: keys.map((key) => ({ key, value: key })) })
    const expected = new Map<number, number>()
    for (const key of keys) {
      const partition = theirs({ topic: 'keyed', partitionMetadata, message: { key, value: null } })
      expected.set(partition, (expected.get(partition) ?? 0) + 1)
    }
    const offsets = await admin.fetchTopicOffsets('keyed')
    for (const { partition, high } of offsets) {
      expect(Number(high)).toBe(expected.get(partition) ?? 0)
    }
    expect(results.length).toBe(expected.size)
  })

  it('batches concurrent sends into shared appends yet keeps per-send offsets right', async () => {
    await admin.createTopics({ topics: [{ topic: 'lingering', numPartitions: 1 }] })
    const lingering = scratch.sluice.producer({ lingerMs: 20, batchBytes: 64 * 1024 })
    await lingering.connect()
    const sends = Array.from({ length: 50 }, (_, i) =>
      lingering.send({ topic: 'lingering', messages: [{ value: `m${i}` }, { value: `n${i}` }] }))
    const results = await Promise.all(sends)
    expect(results.map((r) => Number(r[0]!.baseOffset))).toEqual(
      Array.from({ length: 50 }, (_, i) => i * 2))
    const consumer = scratch.sluice.consumer({ groupId: 'reader' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'lingering', fromBeginning: true })
    const [batch] = await consumer.fetch({ maxWaitMs: 1000 })
    expect(batch!.messages.map((m) => m.value!.toString()).slice(0, 4))
      .toEqual(['m0', 'n0', 'm1', 'n1'])
    await consumer.disconnect()
    await lingering.disconnect()
  })
})

describe('consumer', () => {
  it('pushes every message in order with key, headers and timestamp', async () => {
    await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 2 }] })
    await producer.send({ topic: 'events', messages: [
      { key: 'k', value: 'v0', partition: 1, timestamp: '1700000000000',
        headers: { trace: 'abc', multi: ['x', 'y'] } },
    ] })
    const consumer = scratch.sluice.consumer({ groupId: 'g' })
    await consumer.connect()
    await consumer.subscribe({ topics: [/^ev/], fromBeginning: true })
    const seen: KafkaMessage[] = []
    const all = waitFor('11 messages', () => seen.length === 11)
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message); all.poke() } })
    for (let i = 1; i <= 10; i++) {
      await producer.send({ topic: 'events', messages: [{ value: `v${i}`, partition: 1 }] })
    }
    await all.done
    expect(seen.map((m) => m.value!.toString())).toEqual(
      Array.from({ length: 11 }, (_, i) => `v${i}`))
    expect(seen.map((m) => m.offset)).toEqual(Array.from({ length: 11 }, (_, i) => String(i)))
    expect(seen[0]!.key!.toString()).toBe('k')
    expect(seen[0]!.timestamp).toBe('1700000000000')
    expect(seen[0]!.headers.trace!.toString()).toBe('abc')
    expect((seen[0]!.headers.multi as Buffer[]).map(String)).toEqual(['x', 'y'])
    await consumer.disconnect()
    const offsets = await admin.fetchOffsets({ groupId: 'g', topics: ['events'] })
    expect(offsets).toEqual([{ topic: 'events', partitions: [
      { partition: 0, offset: '-1', metadata: null },
      { partition: 1, offset: '11', metadata: null },
    ] }])
  })

  it('waits on the log, not a timer: a long-poll fetch returns as soon as data lands', async () => {
    await admin.createTopics({ topics: [{ topic: 'poll', numPartitions: 1 }] })
    // Heartbeats every 10 s, so no timer inside the consumer fires during this test: only the
    // log's high watermark can end the wait.
    const consumer = scratch.sluice.consumer({ groupId: 'puller', maxWaitTimeInMs: 30_000,
      sessionTimeout: 30_000, heartbeatInterval: 10_000 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'poll' })
    expect(await consumer.fetch({ maxWaitMs: 0 })).toEqual([])
    const fetched = consumer.fetch({ maxWaitMs: 20_000 })
    // Let the fetch reach its wait before the data lands.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const sentMs = Date.now()
    await producer.send({ topic: 'poll', messages: [{ value: 'hello' }] })
    const batches = await fetched
    expect(Date.now() - sentMs).toBeLessThan(1_000)
    expect(batches[0]!.messages[0]!.value!.toString()).toBe('hello')
    expect(batches[0]!.highWatermark).toBe('1')
    // Positions advanced: the next fetch does not see it again.
    expect(await consumer.fetch({ maxWaitMs: 0 })).toEqual([])
    await consumer.commitOffsets([{ topic: 'poll', partition: 0, offset: '1' }])
    expect((await admin.fetchOffsets({ groupId: 'puller', topics: ['poll'] }))[0]!.partitions[0]!
      .offset).toBe('1')
    await consumer.disconnect()
  })

  it('wakes a push consumer when data lands, not on a timer', async () => {
    await admin.createTopics({ topics: [{ topic: 'push-wake', numPartitions: 1 }] })
    const consumer = scratch.sluice.consumer({ groupId: 'pusher', maxWaitTimeInMs: 30_000,
      sessionTimeout: 30_000, heartbeatInterval: 10_000 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'push-wake' })
    let deliveredMs = 0
    const delivered = waitFor('the push delivery', () => deliveredMs > 0)
    await consumer.run({ autoCommit: false, eachMessage: async () => {
      deliveredMs = Date.now()
      delivered.poke()
    } })
    // The run loop is idle in its wait by now; a timer-driven loop would sleep 10 s or more.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const sentMs = Date.now()
    await producer.send({ topic: 'push-wake', messages: [{ value: 'now' }] })
    await delivered.done
    expect(deliveredMs - sentMs).toBeLessThan(1_000)
    await consumer.disconnect()
  })

  it('fetch with minBytes waits until that many bytes are there, or maxWaitMs', async () => {
    await admin.createTopics({ topics: [{ topic: 'min', numPartitions: 1 }] })
    const consumer = scratch.sluice.consumer({ groupId: 'min-puller', sessionTimeout: 30_000,
      heartbeatInterval: 10_000 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'min', fromBeginning: true })
    await producer.send({ topic: 'min', messages: [{ value: 'x'.repeat(100) }] })
    let settled = false
    const fetched = consumer.fetch({ minBytes: 250, maxWaitMs: 20_000 })
      .finally(() => { settled = true })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(settled).toBe(false) // 100 bytes are there, fewer than minBytes
    await producer.send({ topic: 'min', messages: [{ value: 'y'.repeat(100) }] })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(settled).toBe(false)
    await producer.send({ topic: 'min', messages: [{ value: 'z'.repeat(100) }] })
    const batches = await fetched
    const values = batches.flatMap((b) => b.messages.map((m) => m.value!.toString()[0]))
    expect(values).toEqual(['x', 'y', 'z'])
    const startedMs = Date.now()
    expect(await consumer.fetch({ minBytes: 1_000, maxWaitMs: 150 })).toEqual([])
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(140)
    await consumer.disconnect()
  })

  it('serves a push group and a pull group side by side on one topic', async () => {
    await admin.createTopics({ topics: [{ topic: 'both', numPartitions: 2 }] })
    const pushed: string[] = []
    const pushDone = waitFor('push got 40', () => pushed.length === 40)
    const pusher = scratch.sluice.consumer({ groupId: 'pushers' })
    await pusher.connect()
    await pusher.subscribe({ topic: 'both' })
    await pusher.run({ eachMessage: async ({ message }) => {
      pushed.push(message.value!.toString())
      pushDone.poke()
    } })
    const puller = scratch.sluice.consumer({ groupId: 'pullers' })
    await puller.connect()
    await puller.subscribe({ topic: 'both' })
    expect(await puller.fetch({ maxWaitMs: 0 })).toEqual([])
    const sends = Array.from({ length: 40 }, (_, i) =>
      producer.send({ topic: 'both', messages: [{ key: `k${i}`, value: `v${i}` }] }))
    const pulled: string[] = []
    while (pulled.length < 40) {
      const batches = await puller.fetch({ maxWaitMs: 5_000 })
      expect(batches.length).toBeGreaterThan(0)
      for (const b of batches) pulled.push(...b.messages.map((m) => m.value!.toString()))
    }
    await Promise.all(sends)
    await pushDone.done
    const expected = Array.from({ length: 40 }, (_, i) => `v${i}`).sort()
    expect([...pushed].sort()).toEqual(expected)
    expect([...pulled].sort()).toEqual(expected)
    await pusher.disconnect()
    await puller.disconnect()
  })

  it('fetch honours maxBytes, yet always returns at least one batch', async () => {
    await admin.createTopics({ topics: [{ topic: 'sized', numPartitions: 1 }] })
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'sized', messages: [{ value: String(i).repeat(1000) }] })
    }
    const consumer = scratch.sluice.consumer({ groupId: 'sizer' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'sized', fromBeginning: true })
    const small = await consumer.fetch({ maxBytes: 2500, maxWaitMs: 0 })
    const count = small.reduce((sum, b) => sum + b.messages.length, 0)
    expect(count).toBeGreaterThanOrEqual(1)
    expect(count).toBeLessThanOrEqual(3)
    const tiny = await consumer.fetch({ maxBytes: 1, maxWaitMs: 0 })
    expect(tiny[0]!.messages[0]!.offset).toBe(String(count))
    const rest = await consumer.fetch({ maxWaitMs: 0 })
    expect(rest[0]!.messages.at(-1)!.offset).toBe('9')
    await consumer.disconnect()
  })

  it('seeks back, and pause stops delivery until resume', async () => {
    await admin.createTopics({ topics: [{ topic: 'replay', numPartitions: 1 }] })
    await producer.send({ topic: 'replay', messages: ['a', 'b', 'c'].map((value) => ({ value })) })
    const consumer = scratch.sluice.consumer({ groupId: 'replayer' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'replay', fromBeginning: true })
    const seen: string[] = []
    const firstPass = waitFor('a b c', () => seen.length === 3)
    let secondPass: ReturnType<typeof waitFor> | null = null
    await consumer.run({ eachMessage: async ({ message }) => {
      seen.push(message.value!.toString())
      firstPass.poke()
      secondPass?.poke()
    } })
    await firstPass.done
    consumer.pause([{ topic: 'replay' }])
    expect(consumer.paused()).toEqual([{ topic: 'replay', partitions: [0] }])
    consumer.seek({ topic: 'replay', partition: 0, offset: '1' })
    await producer.send({ topic: 'replay', messages: [{ value: 'd' }] })
    expect(seen).toEqual(['a', 'b', 'c'])
    secondPass = waitFor('b c d again', () => seen.length === 6)
    consumer.resume([{ topic: 'replay' }])
    await secondPass.done
    expect(seen).toEqual(['a', 'b', 'c', 'b', 'c', 'd'])
    await consumer.disconnect()
  })
})
