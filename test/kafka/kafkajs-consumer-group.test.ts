// Proves a kafkajs 2.2.4 consumer group of 3 over the broker: the partitions are split between
// all three, and when one member leaves the other two take its partitions over and every
// record produced before and after the rebalance is consumed, exactly as produced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Consumer, Kafka } from 'kafkajs'
import { until } from '../helpers.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { byPosition, exact, expected, kafkaFor, sampleMessages, type ExactRecord }
  from './kafkajs-helpers.js'

const TOPIC = 'group-topic'
const PARTITIONS = 6
const GROUP = 'three-members'

let fixture: BrokerFixture
let kafka: Kafka

interface Member {
  consumer: Consumer
  records: ExactRecord[]
  /** Partitions of the member's latest assignment. */
  partitions: number[]
}

beforeAll(async () => {
  fixture = await openBroker()
  kafka = kafkaFor(fixture.port, 'group-test')
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] })
  await admin.disconnect()
})

afterAll(async () => {
  await fixture.close()
})

async function startMember(): Promise<Member> {
  const consumer = kafka.consumer({ groupId: GROUP, maxWaitTimeInMs: 200,
    heartbeatInterval: 300, sessionTimeout: 10_000, rebalanceTimeout: 10_000 })
  const member: Member = { consumer, records: [], partitions: [] }
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.partitions = payload.memberAssignment[TOPIC] ?? []
  })
  await consumer.connect()
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true })
  await consumer.run({ eachMessage: async (payload) => void member.records.push(exact(payload)) })
  return member
}

/** Produces `perPartition` sample messages to every partition; returns what must be read. */
async function produceRound(label: string, perPartition: number): Promise<ExactRecord[]> {
  const producer = kafka.producer()
  await producer.connect()
  const wanted: ExactRecord[] = []
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const base = Number(fixture.log.offsets(TOPIC, partition).highWatermark)
    const messages = sampleMessages(perPartition, `${label}-p${partition}`, partition)
    await producer.send({ topic: TOPIC, messages })
    messages.forEach((m, i) => wanted.push(expected(m, partition, base + i)))
  }
  await producer.disconnect()
  return wanted
}

function assigned(members: Member[]): number[] {
  return members.flatMap((m) => m.partitions).sort((a, b) => a - b)
}

function consumedOnce(members: Member[]): ExactRecord[] {
  const unique = new Map<string, ExactRecord>()
  for (const record of members.flatMap((m) => m.records)) {
    unique.set(`${record.partition}/${record.offset}`, record)
  }
  return byPosition([...unique.values()])
}

describe('kafkajs consumer group of 3', () => {
  it('splits partitions, survives a member leaving, loses nothing', async () => {
    const members = [await startMember(), await startMember(), await startMember()]
    const all = Array.from({ length: PARTITIONS }, (_, p) => p)
    await until('three members sharing six partitions', () =>
      members.every((m) => m.partitions.length === 2)
      && JSON.stringify(assigned(members)) === JSON.stringify(all), 30_000)

    const before = await produceRound('before', 5)
    await until('first round consumed', () => consumedOnce(members).length === before.length,
      30_000)
    expect(consumedOnce(members)).toEqual(byPosition(before))

    const [leaving, ...staying] = members as [Member, Member, Member]
    const leavingPartitions = [...leaving.partitions]
    await leaving.consumer.disconnect()
    await until('two members sharing six partitions', () =>
      staying.every((m) => m.partitions.length === 3)
      && JSON.stringify(assigned(staying)) === JSON.stringify(all), 30_000)
    const readByLeaver = leaving.records.length

    const after = await produceRound('after', 5)
    const everything = byPosition([...before, ...after])
    await until('second round consumed', () =>
      consumedOnce(members).length === everything.length, 30_000)
    expect(consumedOnce(members)).toEqual(everything)
    expect(leaving.records.length).toBe(readByLeaver)
    const takenOver = staying.flatMap((m) => m.records)
      .filter((r) => leavingPartitions.includes(r.partition) && r.key?.startsWith('after'))
    expect(takenOver.length).toBe(leavingPartitions.length * 5)

    const description = await describeGroup()
    expect(description.state).toBe('Stable')
    expect(description.members.length).toBe(2)
    await Promise.all(staying.map((m) => m.consumer.disconnect()))
  })
})

async function describeGroup() {
  const admin = kafka.admin()
  await admin.connect()
  const { groups } = await admin.describeGroups([GROUP])
  await admin.disconnect()
  return groups[0]!
}
