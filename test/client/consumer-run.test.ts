// Proves consumer.run's contract beyond the happy path: eachBatch payloads, partitions consumed
// concurrently, autoCommit off, handler failures retried then crashing, and a member that misses
// its session timeout losing its partitions to the rest of the group.
import { afterEach, describe, expect, it } from 'vitest'
import { KafkaJSNonRetriableError, type SluiceProducer } from '../../src/index.js'
import { FakeClock } from '../groups/fake-clock.js'
import { sluiceScratch, waitFor, type SluiceScratch } from './client-helpers.js'

let scratch: SluiceScratch

afterEach(async () => {
  await scratch.cleanup()
})

async function setup(partitions: number, extra = {}): Promise<SluiceProducer> {
  scratch = sluiceScratch(extra)
  const admin = scratch.sluice.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'jobs', numPartitions: partitions,
    configEntries: [{ name: 'sluice.durability', value: 'os' }] }] })
  const producer = scratch.sluice.producer()
  await producer.connect()
  return producer
}

const messages = (partition: number, values: string[]) =>
  values.map((value) => ({ partition, value }))

describe('consumer.run', () => {
  it('hands eachBatch whole batches with kafkajs\'s lag arithmetic', async () => {
    const producer = await setup(1)
    await producer.send({ topic: 'jobs', messages: messages(0, ['a', 'b', 'c']) })
    const consumer = scratch.sluice.consumer({ groupId: 'batcher' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'jobs', fromBeginning: true })
    const seen: { first: string | null; last: string; lag: string; hw: string; size: number }[] = []
    const got = waitFor('one batch', () => seen.length >= 1)
    await consumer.run({ eachBatch: async ({ batch, isRunning, uncommittedOffsets }) => {
      expect(isRunning()).toBe(true)
      expect(uncommittedOffsets().topics).toEqual([])
      seen.push({ first: batch.firstOffset(), last: batch.lastOffset(), lag: batch.offsetLag(),
        hw: batch.highWatermark, size: batch.messages.length })
      got.poke()
    } })
    await got.done
    expect(seen[0]).toEqual({ first: '0', last: '2', lag: '0', hw: '3', size: 3 })
    await consumer.disconnect()
  })

  it('consumes partitions concurrently when asked', async () => {
    const producer = await setup(2)
    await producer.send({ topic: 'jobs',
      messages: [...messages(0, ['p0']), ...messages(1, ['p1'])] })
    const consumer = scratch.sluice.consumer({ groupId: 'parallel' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'jobs', fromBeginning: true })
    let entered = 0
    let release: () => void = () => undefined
    const bothInside = new Promise<void>((resolve) => { release = resolve })
    const done = waitFor('both handled', () => entered === 2)
    await consumer.run({ partitionsConsumedConcurrently: 2, eachMessage: async () => {
      entered++
      if (entered === 2) release()
      await bothInside
      done.poke()
    } })
    await done.done
    await consumer.disconnect()
  })

  it('commits nothing on its own with autoCommit off', async () => {
    const producer = await setup(1)
    await producer.send({ topic: 'jobs', messages: messages(0, ['a', 'b']) })
    const consumer = scratch.sluice.consumer({ groupId: 'manual' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'jobs', fromBeginning: true })
    let count = 0
    const got = waitFor('two', () => count === 2)
    await consumer.run({ autoCommit: false, eachMessage: async () => { count++; got.poke() } })
    await got.done
    const admin = scratch.sluice.admin()
    await admin.connect()
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: 'manual', topics: ['jobs'] }))[0]!.partitions[0]!.offset
    expect(await committed()).toBe('-1')
    await consumer.commitOffsets([{ topic: 'jobs', partition: 0, offset: '1' }])
    await consumer.disconnect()
    expect(await committed()).toBe('1')
  })

  it('redelivers a message whose handler failed, then crashes on a non-retriable error',
    async () => {
      const producer = await setup(1)
      await producer.send({ topic: 'jobs', messages: messages(0, ['flaky', 'fatal', 'never']) })
      const consumer = scratch.sluice.consumer({ groupId: 'retrier',
        retry: { initialRetryTime: 5, retries: 3 } })
      await consumer.connect()
      await consumer.subscribe({ topic: 'jobs', fromBeginning: true })
      const attempts: string[] = []
      const crashes: { restart: boolean; error: Error }[] = []
      const crashed = waitFor('crash', () => crashes.length === 1)
      consumer.on(consumer.events.CRASH, (event) => {
        crashes.push(event.payload)
        crashed.poke()
      })
      await consumer.run({ eachMessage: async ({ message }) => {
        const value = message.value!.toString()
        attempts.push(value)
        if (value === 'flaky' && attempts.length === 1) throw new Error('try again')
        if (value === 'fatal') throw new KafkaJSNonRetriableError('give up')
      } })
      await crashed.done
      expect(attempts).toEqual(['flaky', 'flaky', 'fatal'])
      expect(crashes[0]).toMatchObject({ restart: false, error: { message: 'give up' } })
      await consumer.disconnect()
      const admin = scratch.sluice.admin()
      await admin.connect()
      const [offsets] = await admin.fetchOffsets({ groupId: 'retrier', topics: ['jobs'] })
      expect(offsets!.partitions[0]!.offset).toBe('1')
    })

  it('takes the partitions of a member that misses its session timeout', async () => {
    const clock = new FakeClock()
    const producer = await setup(2, { groups: { clock } })
    const deliveries: { member: string; partition: number; value: string }[] = []
    const watchers: { poke(): void }[] = []
    let releaseStuck: () => void = () => undefined
    const stuck = new Promise<void>((resolve) => { releaseStuck = resolve })
    const start = async (member: string, sessionTimeout: number, block: boolean) => {
      const consumer = scratch.sluice.consumer({ groupId: 'sessions', sessionTimeout })
      await consumer.connect()
      await consumer.subscribe({ topic: 'jobs', fromBeginning: true })
      await consumer.run({ eachMessage: async ({ partition, message }) => {
        deliveries.push({ member, partition, value: message.value!.toString() })
        for (const watcher of watchers) watcher.poke()
        if (block) await stuck
      } })
      return consumer
    }
    const progress = waitFor('healthy member took over', () =>
      deliveries.filter((d) => d.member === 'healthy').length === 2)
    watchers.push(progress)
    const healthy = await start('healthy', 60_000, false)
    const frozen = await start('frozen', 10_000, true)
    const frozenDelivery = waitFor('frozen member got one', () =>
      deliveries.some((d) => d.member === 'frozen'))
    watchers.push(frozenDelivery)
    await producer.send({ topic: 'jobs', messages: [...messages(0, ['x']), ...messages(1, ['y'])] })
    await frozenDelivery.done
    const frozenPartition = deliveries.find((d) => d.member === 'frozen')!.partition
    clock.advance(11_000)
    await progress.done
    expect(deliveries.filter((d) => d.member === 'healthy').map((d) => d.partition).sort())
      .toEqual([0, 1])
    expect(deliveries.filter((d) => d.partition === frozenPartition).map((d) => d.member))
      .toEqual(['frozen', 'healthy'])
    releaseStuck()
    await frozen.disconnect()
    await healthy.disconnect()
  })
})
