// Proves that every advertised version of every API really works over TCP: ApiVersions lists
// exactly the registry, and each version of each API is sent with real data and its reply,
// decoded at that version, carries the effect (stored offsets, fetched bytes, group state).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBatch } from '../../src/format/record-batch.js'
import { registeredHandlers } from '../../src/kafka/api/index.js'
import type { Struct } from '../../src/kafka/protocol/codec.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { WireClient } from './wire-client.js'

let fixture: BrokerFixture
let wire: WireClient

beforeAll(async () => {
  fixture = await openBroker()
  wire = await WireClient.connect(fixture.port)
})

afterAll(async () => {
  wire.close()
  await fixture.close()
})

function versions(apiKey: number): number[] {
  const handler = registeredHandlers().find((h) => h.apiKey === apiKey)!
  return Array.from({ length: handler.maxVersion - handler.minVersion + 1 },
    (_, i) => handler.minVersion + i)
}

const first = (value: unknown): Struct => (value as Struct[])[0]!

describe('ApiVersions', () => {
  it.each(versions(18))('v%i lists exactly the registered handlers', async (version) => {
    const body = await wire.request(18, version,
      { clientSoftwareName: 'test', clientSoftwareVersion: '1' })
    expect(body.errorCode).toBe(0)
    expect(body.apiKeys).toEqual(registeredHandlers().map(({ apiKey, minVersion, maxVersion }) =>
      ({ apiKey, minVersion, maxVersion })))
  })
})

describe('produce, fetch, list offsets, metadata', () => {
  it('Produce v3–8 with acks -1 and 1 store batches at consecutive offsets', async () => {
    await fixture.log.createTopic('versions', { partitions: 1 })
    let expectedBase = 0
    for (const version of versions(0)) {
      for (const acks of [-1, 1]) {
        const batch = encodeBatch([{ key: `v${version}`, value: 'x' }, { value: 'y' }])
        const body = await wire.request(0, version, { transactionalId: null, acks,
          timeoutMs: 1000, topicData: [{ name: 'versions',
            partitionData: [{ index: 0, records: batch }] }] })
        const partition = first(first(body.responses).partitionResponses)
        expect(partition).toMatchObject({ errorCode: 0, baseOffset: expectedBase })
        if (version >= 5) expect(partition.logStartOffset).toBe(0)
        expectedBase += 2
      }
    }
    expect(fixture.log.offsets('versions', 0).highWatermark).toBe(expectedBase)
  })

  it('Fetch v4–11 return the stored batches and the high watermark', async () => {
    const { highWatermark } = fixture.log.offsets('versions', 0)
    for (const version of versions(1)) {
      const body = await wire.request(1, version, { replicaId: -1, maxWaitMs: 0, minBytes: 1,
        maxBytes: 1 << 20, isolationLevel: 1, topics: [{ topic: 'versions',
          partitions: [{ partition: 0, fetchOffset: 4, partitionMaxBytes: 1 << 20 }] }] })
      const partition = first(first(body.responses).partitions)
      expect(partition).toMatchObject({ errorCode: 0, highWatermark })
      const records = partition.records as Buffer
      expect(Number(records.readBigInt64BE(0))).toBe(4)
      if (version >= 4) expect(partition.abortedTransactions).toEqual([])
    }
  })

  it('ListOffsets v1–5 give the earliest and latest offsets', async () => {
    const { highWatermark } = fixture.log.offsets('versions', 0)
    for (const version of versions(2)) {
      for (const [timestamp, offset] of [[-2, 0], [-1, highWatermark]] as const) {
        const body = await wire.request(2, version, { replicaId: -1, isolationLevel: 0,
          topics: [{ name: 'versions', partitions: [{ partitionIndex: 0, timestamp }] }] })
        expect(first(first(body.topics).partitions)).toMatchObject({ errorCode: 0, offset })
      }
    }
  })

  it('Metadata v0–8 describe this node as leader of every partition', async () => {
    for (const version of versions(3)) {
      const body = await wire.request(3, version, { topics: [{ name: 'versions' }],
        allowAutoTopicCreation: false })
      expect(first(body.brokers)).toMatchObject({ nodeId: 1, port: fixture.port })
      const topic = first(body.topics)
      expect(topic).toMatchObject({ errorCode: 0, name: 'versions' })
      expect(first(topic.partitions)).toMatchObject({ partitionIndex: 0, leaderId: 1,
        replicaNodes: [1], isrNodes: [1] })
    }
  })
})

describe('topic administration', () => {
  it('CreateTopics v0–4, CreatePartitions v0–1, DescribeConfigs v0–2, DeleteTopics v0–3',
    async () => {
      for (const version of versions(19)) {
        const body = await wire.request(19, version, { topics: [{ name: `admin-${version}`,
          numPartitions: -1, replicationFactor: -1, assignments: [],
          configs: [{ name: 'retention.ms', value: '60000' }] }], timeoutMs: 1000 })
        expect(first(body.topics)).toMatchObject({ name: `admin-${version}`, errorCode: 0 })
      }
      for (const version of versions(37)) {
        const body = await wire.request(37, version, { topics: [{ name: 'admin-0',
          count: 2 + version, assignments: null }], timeoutMs: 1000, validateOnly: false })
        expect(first(body.results).errorCode).toBe(0)
        expect(fixture.log.offsets('admin-0', 1 + version).highWatermark).toBe(0)
      }
      for (const version of versions(32)) {
        const body = await wire.request(32, version, { resources: [{ resourceType: 2,
          resourceName: 'admin-1', configurationKeys: ['retention.ms'] }] })
        expect(first(body.results).configs).toMatchObject([{ name: 'retention.ms',
          value: '60000' }])
      }
      for (const version of versions(20)) {
        const body = await wire.request(20, version,
          { topicNames: [`admin-${version}`], timeoutMs: 1000 })
        expect(first(body.responses)).toEqual({ name: `admin-${version}`, errorCode: 0 })
      }
      expect(await fixture.log.listTopics()).not.toContain('admin-0')
    })
})

describe('consumer groups', () => {
  it.each([0, 1, 2, 3, 4, 5])('lifecycle with JoinGroup v%i and matching versions', async (i) => {
    const groupId = `group-${i}`
    const [syncV, heartbeatV, leaveV] = [Math.min(i, 3), Math.min(i, 3), Math.min(i, 3)]
    const found = await wire.request(10, Math.min(i, 2), { key: groupId, keyType: 0 })
    expect(found).toMatchObject({ errorCode: 0, nodeId: 1, port: fixture.port })
    const joinBody = { groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000,
      memberId: '', protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from([1, 2, 3]) }] }
    let joined = await wire.request(11, i, joinBody)
    if (i >= 4) {
      expect(joined.errorCode).toBe(79)
      joined = await wire.request(11, i, { ...joinBody, memberId: joined.memberId })
    }
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' })
    const memberId = joined.memberId as string
    expect(joined.leader).toBe(memberId)
    const synced = await wire.request(14, syncV, { groupId, generationId: 1, memberId,
      assignments: [{ memberId, assignment: Buffer.from('mine') }] })
    expect(synced).toMatchObject({ errorCode: 0, assignment: Buffer.from('mine') })
    expect((await wire.request(12, heartbeatV, { groupId, generationId: 1, memberId }))
      .errorCode).toBe(0)
    const committed = await wire.request(8, 2 + i, { groupId, generationIdOrMemberEpoch: 1,
      memberId, topics: [{ name: 't', partitions: [{ partitionIndex: 0,
        committedOffset: 40 + i, committedMetadata: 'm' }] }] })
    expect(first(first(committed.topics).partitions).errorCode).toBe(0)
    const fetched = await wire.request(9, 1 + Math.min(i, 4), { groupId,
      topics: [{ name: 't', partitionIndexes: [0, 1] }] })
    expect(first(fetched.topics).partitions).toMatchObject([
      { partitionIndex: 0, committedOffset: 40 + i, metadata: 'm', errorCode: 0 },
      { partitionIndex: 1, committedOffset: -1, errorCode: 0 }])
    const described = await wire.request(15, Math.min(i, 4), { groups: [groupId] })
    expect(first(described.groups)).toMatchObject({ groupState: 'Stable',
      protocolType: 'consumer', protocolData: 'range' })
    const listed = await wire.request(16, Math.min(i, 2), {})
    expect(listed.groups).toContainEqual(expect.objectContaining({ groupId }))
    const left = await wire.request(13, leaveV, { groupId, memberId, members: [{ memberId }] })
    expect(left.errorCode).toBe(0)
    const deleted = await wire.request(42, Math.min(i, 1), { groupsNames: [groupId] })
    expect(deleted.results).toEqual([{ groupId, errorCode: 0 }])
  })
})
