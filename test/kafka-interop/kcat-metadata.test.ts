// Proves that kcat's metadata and offset queries see what `sluice broker` holds: `kcat -L` lists
// exactly this one broker at its advertised address and each topic with its partitions, leader,
// replicas and ISR; `-L -t` narrows to one topic; an unknown topic is reported as unknown when
// auto-creation is off (and is not created by the query); and `kcat -Q` (ListOffsets) answers
// the earliest offset, the end offset and the first offset at or after a timestamp exactly.
import { Kafka, logLevel, type Admin } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertGateOpen, interopGate, kcatMissing, killChildren, runOk, startBroker,
  type BrokerProcess,
} from './interop-kit.js'

const gate = interopGate('kcat', kcatMissing())
const BOUNDED = ['-m', '10', '-X', 'socket.timeout.ms=10000']
const BASE_TS = 1_750_000_000_000

interface KcatMetadata {
  originating_broker: { id: number; name: string }
  query: { topic: string }
  controllerid: number
  brokers: { id: number; name: string }[]
  topics: {
    topic: string
    error?: string
    partitions: { partition: number; error?: string; leader: number
      replicas: { id: number }[]; isrs: { id: number }[] }[]
  }[]
}

let broker: BrokerProcess
let admin: Admin

beforeAll(async () => {
  if (gate.skip) return
  assertGateOpen(gate)
  broker = await startBroker({ args: ['--no-auto-create-topics'] })
  const kafka = new Kafka({ clientId: 'interop-kcat-metadata', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 2 } })
  admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'meta-three', numPartitions: 3 },
    { topic: 'meta-one', numPartitions: 1 }] })
  const producer = kafka.producer()
  await producer.connect()
  try {
    await producer.send({ topic: 'meta-three', acks: -1, messages: [0, 1, 2].map((i) => ({
      partition: 0, key: `k${i}`, value: `v${i}`, timestamp: String(BASE_TS + i * 1000) })) })
  } finally {
    await producer.disconnect()
  }
})

afterAll(async () => {
  await admin?.disconnect()
  await broker?.cleanup()
  killChildren()
})

async function kcatJson<T>(args: string[]): Promise<T> {
  const { stdout } = await runOk('kcat', ['-b', broker.bootstrap, '-J', ...BOUNDED, ...args])
  return JSON.parse(stdout) as T
}

function partitionsLedBy(id: number, count: number) {
  return Array.from({ length: count }, (_, partition) => ({ partition, leader: id,
    replicas: [{ id }], isrs: [{ id }] }))
}

describe.skipIf(gate.skip)('kcat -L and kcat -Q', () => {
  it('lists this broker and every topic with its partitions', async () => {
    const metadata = await kcatJson<KcatMetadata>(['-L'])
    expect(metadata.brokers).toHaveLength(1)
    const id = metadata.brokers[0]!.id
    expect(metadata.brokers).toEqual([{ id, name: broker.bootstrap }])
    expect(metadata.originating_broker.id).toBe(id)
    expect(metadata.controllerid).toBe(id)
    expect(metadata.query).toEqual({ topic: '*' })
    const ours = metadata.topics.filter((t) => !t.topic.startsWith('__'))
      .sort((a, b) => a.topic.localeCompare(b.topic))
    expect(ours).toEqual([
      { topic: 'meta-one', partitions: partitionsLedBy(id, 1) },
      { topic: 'meta-three', partitions: partitionsLedBy(id, 3) },
    ])
  })

  it('narrows to one topic with -t, and reports an unknown topic without creating it',
    async () => {
      const one = await kcatJson<KcatMetadata>(['-L', '-t', 'meta-three'])
      const id = one.brokers[0]!.id
      expect(one.query).toEqual({ topic: 'meta-three' })
      expect(one.topics).toEqual([{ topic: 'meta-three', partitions: partitionsLedBy(id, 3) }])

      const unknown = await kcatJson<KcatMetadata>(['-L', '-t', 'meta-missing'])
      expect(unknown.topics).toEqual([{ topic: 'meta-missing',
        error: 'Broker: Unknown topic or partition', partitions: [] }])
      expect(await admin.listTopics()).not.toContain('meta-missing')
    })

  it('answers earliest, end and by-timestamp offsets exactly (-Q)', async () => {
    type Offsets = Record<string, Record<string, { partition: number; offset: number }>>
    const query = (spec: string[]) => kcatJson<Offsets>(['-Q', ...spec.flatMap((s) => ['-t', s])])
    const ends = await query(['meta-three:0:-1', 'meta-three:1:-1', 'meta-three:2:-1'])
    expect(ends).toEqual({ 'meta-three': { topic: 'meta-three',
      0: { partition: 0, offset: 3 }, 1: { partition: 1, offset: 0 },
      2: { partition: 2, offset: 0 } } })
    const earliest = await query(['meta-three:0:-2'])
    expect(earliest['meta-three']?.['0']).toEqual({ partition: 0, offset: 0 })
    const atOrAfter = await query([`meta-three:0:${BASE_TS + 500}`])
    expect(atOrAfter['meta-three']?.['0']).toEqual({ partition: 0, offset: 1 })
    const exact = await query([`meta-three:0:${BASE_TS + 2000}`])
    expect(exact['meta-three']?.['0']).toEqual({ partition: 0, offset: 2 })
    const pastTheEnd = await query([`meta-three:0:${BASE_TS + 10_000}`])
    expect(pastTheEnd['meta-three']?.['0']).toEqual({ partition: 0, offset: -1 })
  })
})
