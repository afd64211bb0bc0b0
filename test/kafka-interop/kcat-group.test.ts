// Proves that kcat's balanced consumer (-G, librdkafka's group protocol: FindCoordinator,
// JoinGroup, SyncGroup, Heartbeat, OffsetFetch, OffsetCommit, LeaveGroup) works against
// `sluice broker`: a lone member reads exactly every record (keys, values, headers, timestamps,
// offsets), commits on close so the group resumes exactly after them, and two concurrent
// members split the partitions between them and together read every record.
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertGateOpen, byPartitionOffset, interopGate, kcatMissing, killChildren, parseJsonLines,
  runOk, startBroker, startTool, type BrokerProcess, type KcatRecord, type RunningTool,
} from './interop-kit.js'
import { until } from '../helpers.js'

const gate = interopGate('kcat', kcatMissing())
const TOPIC = 'kcat-group'
const BASE_TS = 1_720_000_000_000
const GROUP_CONFIG = ['-X', 'auto.offset.reset=earliest', '-X', 'enable.partition.eof=true',
  '-X', 'session.timeout.ms=10000', '-X', 'heartbeat.interval.ms=500', '-m', '10']

interface Produced {
  partition: number
  offset: number
  key: string
  value: string
  ts: number
}

let broker: BrokerProcess
let admin: Admin
let producer: Producer
const produced: Produced[] = []

beforeAll(async () => {
  if (gate.skip) return
  assertGateOpen(gate)
  broker = await startBroker({ args: ['--default-partitions', '2'] })
  const kafka = new Kafka({ clientId: 'interop-kcat-group', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 2 } })
  admin = kafka.admin()
  await admin.connect()
  producer = kafka.producer()
  await producer.connect()
})

afterAll(async () => {
  await producer?.disconnect()
  await admin?.disconnect()
  await broker?.cleanup()
  killChildren()
})

/** Appends `perPartition` records to each partition and remembers what they must read as. */
async function produce(perPartition: number): Promise<Produced[]> {
  const batch: Produced[] = []
  for (const partition of [0, 1]) {
    const next = produced.filter((p) => p.partition === partition).length
    for (let i = 0; i < perPartition; i++) {
      const offset = next + i
      batch.push({ partition, offset, key: `p${partition}-k${offset}`,
        value: `value ${offset} of partition ${partition} ✓`,
        ts: BASE_TS + partition * 1_000_000 + offset * 1000 })
    }
  }
  await producer.send({ topic: TOPIC, acks: -1, messages: batch.map((p) => ({
    partition: p.partition, key: p.key, value: p.value, timestamp: String(p.ts),
    headers: { origin: 'kafkajs', offset: String(p.offset) } })) })
  produced.push(...batch)
  return batch
}

function asKcat(records: Produced[]): KcatRecord[] {
  return byPartitionOffset(records).map((p) => ({ topic: TOPIC, partition: p.partition,
    offset: p.offset, tstype: 'create', ts: p.ts, broker: expect.any(Number) as unknown as number,
    headers: ['origin', 'kafkajs', 'offset', String(p.offset)], key: p.key, payload: p.value }))
}

async function consumeToEnd(group: string): Promise<KcatRecord[]> {
  const { stdout } = await runOk('kcat', ['-G', group, '-b', broker.bootstrap, '-J', '-q', '-e',
    ...GROUP_CONFIG, TOPIC], { timeoutMs: 60_000 })
  return byPartitionOffset(parseJsonLines<KcatRecord>(stdout))
}

/** The partitions a member was last assigned, from kcat's "rebalanced … assigned:" lines. */
function lastAssignment(member: RunningTool): number[] | null {
  const lines = member.stderr().split('\n')
    .filter((line) => /rebalanced .*(assigned|revoked):/.test(line))
  const last = lines.at(-1)
  if (last === undefined || !last.includes('assigned:')) return null
  return [...last.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])).sort()
}

describe.skipIf(gate.skip)('kcat -G (balanced consumer group)', () => {
  it('reads every record, commits on close, and resumes exactly after them', async () => {
    const first = await produce(3)
    expect(await consumeToEnd('kcat-lone')).toEqual(asKcat(first))
    const committed = await admin.fetchOffsets({ groupId: 'kcat-lone', topics: [TOPIC] })
    expect(committed).toEqual([{ topic: TOPIC, partitions: expect.arrayContaining([
      expect.objectContaining({ partition: 0, offset: '3' }),
      expect.objectContaining({ partition: 1, offset: '3' })]) }])

    const second = await produce(1)
    expect(await consumeToEnd('kcat-lone')).toEqual(asKcat(second))
  })

  it('splits the partitions between two members that together read every record', async () => {
    // -u: unbuffered, so each record reaches the pipe as it is read, not when kcat exits.
    const args = ['-G', 'kcat-pair', '-b', broker.bootstrap, '-J', '-u', ...GROUP_CONFIG, TOPIC]
    const members = [startTool('kcat', args), startTool('kcat', args)]
    const assignments = () => members.map(lastAssignment)
    const exitedEarly = () => members.some((m) => m.child.exitCode !== null)
    const why = () => members.map((m, i) => `member ${i} (exit ${m.child.exitCode}) stderr:\n` +
      m.stderr().slice(-3000)).join('\n')
    const explained = (wait: Promise<void>) => wait.catch((error: Error) => {
      throw new Error(`${error.message}\n${why()}`)
    })
    const split = () => {
      const [a, b] = assignments()
      return a?.length === 1 && b?.length === 1 && a[0] !== b[0]
    }
    await explained(until('a one-partition assignment for each member',
      () => split() || exitedEarly(), 45_000))
    expect(exitedEarly(), why()).toBe(false)
    const seen = () => byPartitionOffset(members.flatMap((m) => parseJsonLines<KcatRecord>(
      m.stdout().slice(0, m.stdout().lastIndexOf('\n') + 1))))
    const distinct = () => new Set(seen().map((r) => `${r.partition}:${r.offset}`)).size
    await explained(until(`all ${produced.length} records read`,
      () => distinct() === produced.length || exitedEarly(), 30_000))
    expect(exitedEarly(), why()).toBe(false)
    expect(split()).toBe(true)
    const exitCodes = await Promise.all(members.map((m) => m.stop()))
    expect(exitCodes).toEqual([0, 0])

    const unique = new Map(seen().map((r) => [`${r.partition}:${r.offset}`, r]))
    expect(byPartitionOffset([...unique.values()])).toEqual(asKcat(produced))
  }, 120_000)
})
