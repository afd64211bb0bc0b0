// Proves consumer groups through the embedded client on a real Log: members share partitions
// evenly, a member leaving triggers a rebalance with no message lost and none delivered to two
// members in one generation, committed offsets survive an engine restart, and every group gets
// every message (fan-out).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SluiceConsumer, SluiceProducer } from '../../src/index.js'
import { sluiceScratch, waitFor, type SluiceScratch } from '../client/client-helpers.js'

let scratch: SluiceScratch
let producer: SluiceProducer

beforeEach(async () => {
  scratch = sluiceScratch()
  const admin = scratch.sluice.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'work', numPartitions: 6,
    configEntries: [{ name: 'sluice.durability', value: 'os' }] }] })
  producer = scratch.sluice.producer()
  await producer.connect()
})

afterEach(async () => {
  await scratch.cleanup()
})

interface Delivery {
  member: string
  generation: number
  key: string
}

interface Member {
  name: string
  consumer: SluiceConsumer
  generation: number
  assignment: Record<string, number[]>
}

/** Starts a consumer that records each delivery with the generation it was delivered in. */
async function startMember(name: string, groupId: string, deliveries: Delivery[],
  onChange: () => void, beforeDelivery?: () => Promise<void>): Promise<Member> {
  const consumer = scratch.sluice.consumer({ groupId })
  const member: Member = { name, consumer, generation: -1, assignment: {} }
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    member.generation = event.payload.generationId as number
    member.assignment = event.payload.memberAssignment
    onChange()
  })
  await consumer.connect()
  await consumer.subscribe({ topic: 'work', fromBeginning: true })
  await consumer.run({ eachMessage: async ({ partition, message }) => {
    await beforeDelivery?.()
    deliveries.push({ member: name, generation: member.generation,
      key: `${partition}:${message.offset}` })
    onChange()
  } })
  return member
}

function partitionsOf(member: Member): number[] {
  return [...(member.assignment.work ?? [])].sort()
}

async function produce(count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i += 10) {
    await producer.send({ topic: 'work', messages: Array.from({ length: 10 }, (_, j) =>
      ({ key: `k${i + j}`, value: `v${i + j}` })) })
  }
}

describe('consumer groups', () => {
  it('gives 3 consumers of a 6-partition topic 2 partitions each', async () => {
    const deliveries: Delivery[] = []
    const members: Member[] = []
    const balanced = waitFor('a generation where every member holds 2 partitions', () =>
      members.length === 3 && new Set(members.map((m) => m.generation)).size === 1
      && members.every((m) => partitionsOf(m).length === 2))
    for (const name of ['a', 'b', 'c']) {
      members.push(await startMember(name, 'trio', deliveries, () => balanced.poke()))
    }
    balanced.poke()
    await balanced.done
    expect(members.flatMap(partitionsOf).sort()).toEqual([0, 1, 2, 3, 4, 5])
    const admin = scratch.sluice.admin()
    await admin.connect()
    const { groups } = await admin.describeGroups(['trio'])
    expect(groups[0]).toMatchObject({ state: 'Stable', protocol: 'RoundRobinAssigner',
      protocolType: 'consumer' })
    expect(groups[0]!.members).toHaveLength(3)
  })

  it('rebalances when a member stops: nothing lost, nothing twice in one generation', async () => {
    const deliveries: Delivery[] = []
    const members: Member[] = []
    const watchers = new Set<{ poke(): void }>()
    const delivered = (count: number) => {
      const watcher = waitFor(`${count} distinct messages delivered`, () =>
        new Set(deliveries.map((d) => d.key)).size >= count, 20_000)
      watchers.add(watcher)
      return watcher.done
    }
    // Member c blocks inside its 5th delivery until it has been told to stop, so its partitions
    // still hold undelivered messages when it leaves.
    let cDeliveries = 0
    let releaseC: () => void = () => undefined
    const cGate = new Promise<void>((resolve) => { releaseC = resolve })
    const cBlocked = waitFor('c blocked in a delivery', () => cDeliveries >= 5)
    const blockC = async () => {
      cDeliveries++
      cBlocked.poke()
      if (cDeliveries === 5) await cGate
    }
    const onChange = () => { for (const watcher of watchers) watcher.poke() }
    members.push(await startMember('a', 'crew', deliveries, onChange))
    members.push(await startMember('b', 'crew', deliveries, onChange))
    members.push(await startMember('c', 'crew', deliveries, onChange, blockC))
    await produce(300)
    await cBlocked.done
    const stopped = members[2]!.consumer.disconnect()
    releaseC()
    await stopped
    await produce(300, 300)
    await delivered(600)

    const perGeneration = new Map<string, string>()
    for (const d of deliveries) {
      const slot = `${d.generation}/${d.key}`
      expect(perGeneration.get(slot), `${d.key} delivered twice in generation ${d.generation}`)
        .toBeUndefined()
      perGeneration.set(slot, d.member)
    }
    const produced = new Set<string>()
    const offsets = await scratch.sluice.admin()
    await offsets.connect()
    for (const { partition, high } of await offsets.fetchTopicOffsets('work')) {
      for (let o = 0; o < Number(high); o++) produced.add(`${partition}:${o}`)
    }
    expect(produced.size).toBe(600)
    expect(new Set(deliveries.map((d) => d.key))).toEqual(produced)
    const remaining = members.slice(0, 2)
    expect(remaining.flatMap(partitionsOf).sort()).toEqual([0, 1, 2, 3, 4, 5])
    const late = deliveries.filter((d) => d.generation === remaining[0]!.generation)
    expect(late.every((d) => d.member !== 'c')).toBe(true)
  })

  it('keeps committed offsets across an engine restart', async () => {
    const deliveries: Delivery[] = []
    const first = waitFor('first 60', () => deliveries.length === 60)
    const member = await startMember('one', 'durable', deliveries, () => first.poke())
    await produce(60)
    await first.done
    await member.consumer.disconnect()
    const sluice = await scratch.restart()
    producer = sluice.producer()
    await producer.connect()
    await produce(40, 60)
    const admin = sluice.admin()
    await admin.connect()
    const committed = await admin.fetchOffsets({ groupId: 'durable', topics: ['work'] })
    expect(committed[0]!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0))
      .toBe(60)
    const after: Delivery[] = []
    const rest = waitFor('the 40 new ones', () => after.length === 40)
    const again = await startMember('two', 'durable', after, () => rest.poke())
    await rest.done
    const values = new Set(after.map((d) => d.key))
    expect(values.size).toBe(40)
    for (const d of deliveries) expect(values.has(d.key)).toBe(false)
    await again.consumer.disconnect()
  })

  it('delivers every message to each of two groups', async () => {
    const left: Delivery[] = []
    const right: Delivery[] = []
    const both = waitFor('both groups complete', () => left.length >= 100 && right.length >= 100)
    await startMember('l', 'left', left, () => both.poke())
    await startMember('r', 'right', right, () => both.poke())
    await produce(100)
    await both.done
    const keys = (list: Delivery[]) => new Set(list.map((d) => d.key))
    expect(keys(left).size).toBe(100)
    expect(keys(right)).toEqual(keys(left))
  })
})
