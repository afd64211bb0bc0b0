// Proves that node-rdkafka's KafkaConsumer (librdkafka 2.12's group protocol) works against
// `sluice broker`: subscribed in a group it reads exactly the records another client (kafkajs)
// wrote — binary keys and values, null key, tombstone, empty and 200 KB values, timestamps,
// repeated binary headers, offsets — commits its position (seen by both librdkafka and kafkajs),
// and a later member of the same group resumes exactly after the committed offsets.
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs'
import type * as Rdkafka from 'node-rdkafka'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertGateOpen, interopGate, killChildren, startBroker, type BrokerProcess,
} from './interop-kit.js'
import {
  connected, disconnected, expectedOffsets, rdkafkaMissing, rdkafkaModule, sampleRecords,
  type SentRecord,
} from './rdkafka-kit.js'
import { waitFor } from '../client/client-helpers.js'

const gate = interopGate('node-rdkafka', rdkafkaMissing)
const TOPIC = 'rdkafka-group'
const GROUP = 'rdkafka-members'
const BASE_TS = 1_730_000_000_000

let broker: BrokerProcess
let admin: Admin
let producer: Producer
const consumers: Rdkafka.KafkaConsumer[] = []
const sent: SentRecord[] = []

beforeAll(async () => {
  if (gate.skip) return
  assertGateOpen(gate)
  broker = await startBroker({ args: ['--default-partitions', '2'] })
  const kafka = new Kafka({ clientId: 'interop-rdkafka-group', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 2 } })
  admin = kafka.admin()
  await admin.connect()
  producer = kafka.producer()
  await producer.connect()
})

afterAll(async () => {
  await Promise.all(consumers.map((c) => disconnected(c).catch(() => undefined)))
  await producer?.disconnect()
  await admin?.disconnect()
  await broker?.cleanup()
  killChildren()
})

async function produceWithKafkajs(records: SentRecord[]): Promise<void> {
  await producer.send({ topic: TOPIC, acks: -1, messages: records.map((r) => ({
    partition: r.partition, key: r.key, value: r.value, timestamp: String(r.timestamp),
    headers: Object.fromEntries(groupHeaders(r)) })) })
  sent.push(...records)
}

/** kafkajs sends a repeated header name as an array of values, in order. */
function groupHeaders(r: SentRecord): [string, Buffer[]][] {
  const names = [...new Set(r.headers.map((h) => h.name))]
  return names.map((name) => [name, r.headers.filter((h) => h.name === name).map((h) => h.value)])
}

interface Read {
  partition: number
  offset: number
  key: Buffer | null
  value: Buffer | null
  timestamp: number | undefined
  headers: { name: string; value: Buffer }[]
}

function asRead(message: Rdkafka.Message): Read {
  const key = message.key === undefined || message.key === null ? null
    : Buffer.isBuffer(message.key) ? message.key : Buffer.from(message.key)
  const headers = (message.headers ?? []).flatMap((h) => Object.entries(h).map(([name, value]) =>
    ({ name, value: Buffer.isBuffer(value) ? value : Buffer.from(value) })))
  return { partition: message.partition, offset: message.offset, key, value: message.value,
    timestamp: message.timestamp, headers }
}

function expected(records: SentRecord[], offsets: number[]): Read[] {
  return records.map((r, i) => ({ partition: r.partition, offset: offsets[i]!, key: r.key,
    value: r.value, timestamp: r.timestamp, headers: r.headers }))
    .sort((a, b) => a.partition - b.partition || a.offset - b.offset)
}

/** A group member that subscribes and collects every message until `count` have arrived. */
async function consumeInGroup(count: number): Promise<{ member: Rdkafka.KafkaConsumer
  read: Read[] }> {
  const { KafkaConsumer } = rdkafkaModule()
  const member = new KafkaConsumer({ 'group.id': GROUP, 'metadata.broker.list': broker.bootstrap,
    'enable.auto.commit': false, 'session.timeout.ms': 10_000, 'heartbeat.interval.ms': 500,
    'fetch.wait.max.ms': 100, 'socket.timeout.ms': 10_000 }, { 'auto.offset.reset': 'earliest' })
  consumers.push(member)
  const read: Read[] = []
  const errors: string[] = []
  const enough = waitFor(`${count} records in group ${GROUP}`,
    () => read.length >= count || errors.length > 0, 45_000)
  member.on('data', (message) => {
    read.push(asRead(message))
    enough.poke()
  })
  member.on('event.error', (error) => {
    errors.push(error.message)
    enough.poke()
  })
  await connected(member)
  member.subscribe([TOPIC])
  member.consume()
  await enough.done
  expect(errors).toEqual([])
  read.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  return { member, read }
}

function committedOffsets(member: Rdkafka.KafkaConsumer): Promise<Rdkafka.TopicPartitionOffset[]> {
  return new Promise((resolve, reject) => {
    member.committed([{ topic: TOPIC, partition: 0 }, { topic: TOPIC, partition: 1 }], 10_000,
      (error, partitions) => error ? reject(error) : resolve(partitions))
  })
}

describe.skipIf(gate.skip)('node-rdkafka group consumer', () => {
  it('reads exact records, commits, and a later member resumes after the commit', async () => {
    const first = sampleRecords(BASE_TS)
    await produceWithKafkajs(first)
    const { member, read } = await consumeInGroup(first.length)
    expect(read).toEqual(expected(first, expectedOffsets(first)))

    member.commitSync(null)
    const ends = [0, 1].map((p) => first.filter((r) => r.partition === p).length)
    const committed = await committedOffsets(member)
    expect(committed.map((c) => [c.partition, c.offset])).toEqual([[0, ends[0]], [1, ends[1]]])
    const seenByKafkajs = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
    expect(seenByKafkajs[0]?.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual(
      [[0, String(ends[0])], [1, String(ends[1])]])
    await disconnected(member)

    const second = sampleRecords(BASE_TS + 10_000).filter((r) => r.value !== null
      && r.value.length < 1000)
    await produceWithKafkajs(second)
    const offsets = expectedOffsets([...first, ...second]).slice(first.length)
    const later = await consumeInGroup(second.length)
    expect(later.read).toEqual(expected(second, offsets))
    await disconnected(later.member)
  }, 120_000)
})
