// Proves Produce, Fetch, ListOffsets and Metadata semantics at the wire: Kafka's batch checks
// and error codes, stored bytes served unchanged, whole batches under maxBytes (at least one),
// offsets out of range, deleted topics waking parked fetches, and topic auto-creation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Codec, Field, computeBatchCrc, ATTRIBUTE_CONTROL } from '../../src/format/batch-header.js'
import { encodeBatch } from '../../src/format/record-batch.js'
import type { Struct } from '../../src/kafka/protocol/codec.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { WireClient } from './wire-client.js'

let fixture: BrokerFixture
let wire: WireClient

beforeEach(async () => {
  fixture = await openBroker({ defaultPartitions: 3 })
  wire = await WireClient.connect(fixture.port)
})

afterEach(async () => {
  wire.close()
  await fixture.close()
})

const first = (value: unknown): Struct => (value as Struct[])[0]!

async function produce(topic: string, records: Buffer, options: { acks?: number;
  version?: number; partition?: number } = {}): Promise<Struct> {
  const body = await wire.request(0, options.version ?? 7, { transactionalId: null,
    acks: options.acks ?? -1, timeoutMs: 1000, topicData: [{ name: topic,
      partitionData: [{ index: options.partition ?? 0, records }] }] })
  return first(first(body.responses).partitionResponses)
}

async function fetchPartition(topic: string, offset: number, limits: { maxBytes?: number;
  partitionMaxBytes?: number; maxWaitMs?: number } = {}): Promise<Struct> {
  const body = await wire.request(1, 11, { maxWaitMs: limits.maxWaitMs ?? 0, minBytes: 1,
    maxBytes: limits.maxBytes ?? 1 << 20, isolationLevel: 1, topics: [{ topic, partitions: [
      { partition: 0, fetchOffset: offset, partitionMaxBytes: limits.partitionMaxBytes
        ?? 1 << 20 }] }] })
  return first(first(body.responses).partitions)
}

/** A batch whose attributes are changed and whose CRC is recomputed to match. */
function withAttributes(batch: Buffer, attributes: number): Buffer {
  const copy = Buffer.from(batch)
  copy.writeInt16BE(attributes, Field.attributes)
  copy.writeUInt32BE(computeBatchCrc(copy), Field.crc)
  return copy
}

function batchOf(count: number, valueBytes: number): Buffer {
  return encodeBatch(Array.from({ length: count }, (_, i) =>
    ({ key: `k${i}`, value: Buffer.alloc(valueBytes, i), timestamp: 1_600_000_000_000 + i })))
}

describe('Produce checks', () => {
  beforeEach(async () => {
    await fixture.log.createTopic('checked', { partitions: 1 })
  })

  it('refuses a batch whose CRC does not match, storing nothing', async () => {
    const batch = batchOf(2, 10)
    batch[batch.length - 1]! ^= 0xff
    expect(await produce('checked', batch)).toMatchObject({ errorCode: 2 })
    expect(fixture.log.offsets('checked', 0).highWatermark).toBe(0)
  })

  it('refuses invalid acks, control batches and zstd before Produce v7', async () => {
    const batch = batchOf(1, 4)
    expect(await produce('checked', batch, { acks: 2 })).toMatchObject({ errorCode: 21 })
    expect(await produce('checked', withAttributes(batch, ATTRIBUTE_CONTROL)))
      .toMatchObject({ errorCode: 87 })
    expect(await produce('checked', withAttributes(batch, Codec.zstd), { version: 6 }))
      .toMatchObject({ errorCode: 76 })
    expect(await produce('checked', batch.subarray(0, 40))).toMatchObject({ errorCode: 2 })
    expect(fixture.log.offsets('checked', 0).highWatermark).toBe(0)
  })

  it('refuses several batches for one partition, as Kafka does from v3, storing none', async () => {
    const records = Buffer.concat([batchOf(2, 5), batchOf(3, 5)])
    expect(await produce('checked', records)).toMatchObject({ errorCode: 87 })
    expect(fixture.log.offsets('checked', 0).highWatermark).toBe(0)
  })

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist', async () => {
    expect(await produce('checked', batchOf(1, 1), { partition: 4 }))
      .toMatchObject({ errorCode: 3 })
  })

  it('hides the coordinator\'s offsets topic from Produce, Fetch and Metadata', async () => {
    const before = fixture.log.offsets('__consumer_offsets', 0).highWatermark
    expect(await produce('__consumer_offsets', batchOf(1, 1))).toMatchObject({ errorCode: 3 })
    expect(await fetchPartition('__consumer_offsets', 0)).toMatchObject({ errorCode: 3 })
    expect(fixture.log.offsets('__consumer_offsets', 0).highWatermark).toBe(before)
    const all = await wire.request(3, 8, { topics: null })
    expect((all.topics as Struct[]).map((t) => t.name)).toEqual(['checked'])
  })
})

describe('Fetch', () => {
  beforeEach(async () => {
    await fixture.log.createTopic('served', { partitions: 1 })
    for (let i = 0; i < 3; i++) await produce('served', batchOf(4, 1000))
  })

  it('serves the stored bytes unchanged, from the batch holding the offset', async () => {
    const stored = await fixture.log.readBatches('served', 0, 5, { maxBytes: 1 << 20 })
    const partition = await fetchPartition('served', 5)
    expect(partition).toMatchObject({ errorCode: 0, highWatermark: 12, lastStableOffset: 12,
      logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1 })
    expect(partition.records).toEqual(Buffer.concat(stored.batches))
    expect(Number((partition.records as Buffer).readBigInt64BE(0))).toBe(4)
  })

  it('returns whole batches within maxBytes, and one whole batch even above it', async () => {
    const batchBytes = batchOf(4, 1000).length
    const one = await fetchPartition('served', 0, { maxBytes: 10, partitionMaxBytes: 10 })
    expect((one.records as Buffer).length).toBe(batchBytes)
    const two = await fetchPartition('served', 0, { partitionMaxBytes: batchBytes * 2 + 100 })
    expect((two.records as Buffer).length).toBe(batchBytes * 2)
  })

  it('answers OFFSET_OUT_OF_RANGE past the high watermark, 3 for unknown topics', async () => {
    expect(await fetchPartition('served', 13)).toMatchObject({ errorCode: 1,
      highWatermark: 12 })
    expect(await fetchPartition('nowhere', 0)).toMatchObject({ errorCode: 3 })
  })

  it('wakes a parked fetch when its topic is deleted', async () => {
    const other = await WireClient.connect(fixture.port)
    const started = Date.now()
    const parked = fetchPartition('served', 12, { maxWaitMs: 20_000 })
    const deleted = await other.request(20, 1, { topicNames: ['served'], timeoutMs: 1000 })
    expect(deleted.responses).toEqual([{ name: 'served', errorCode: 0 }])
    expect(await parked).toMatchObject({ errorCode: 3 })
    expect(Date.now() - started).toBeLessThan(10_000)
    other.close()
  })
})

describe('ListOffsets and Metadata', () => {
  it('finds offsets by timestamp', async () => {
    await fixture.log.createTopic('timed', { partitions: 1 })
    await produce('timed', batchOf(4, 1))
    const lookup = async (timestamp: number) => first(first((await wire.request(2, 3, {
      replicaId: -1, topics: [{ name: 'timed', partitions: [{ partitionIndex: 0,
        timestamp }] }] })).topics).partitions)
    expect(await lookup(1_600_000_000_000)).toMatchObject({ errorCode: 0, offset: 0 })
    // Inside the one batch: the record, not the batch, is found.
    expect(await lookup(1_600_000_000_001)).toMatchObject({ errorCode: 0, offset: 1,
      timestamp: 1_600_000_000_001 })
    expect(await lookup(-1)).toMatchObject({ offset: 4, timestamp: -1 })
    expect(await lookup(1_700_000_000_000)).toMatchObject({ errorCode: 0, offset: -1 })
  })

  it('auto-creates topics on Metadata and Produce with the default partition count', async () => {
    const metadata = await wire.request(3, 6, { topics: [{ name: 'made-by-metadata' }],
      allowAutoTopicCreation: true })
    expect(first(metadata.topics)).toMatchObject({ errorCode: 0 })
    expect((first(metadata.topics).partitions as Struct[]).length).toBe(3)
    expect(await produce('made-by-produce', batchOf(1, 1), { partition: 2 }))
      .toMatchObject({ errorCode: 0, baseOffset: 0 })
    const refused = await wire.request(3, 6, { topics: [{ name: 'not-made' }],
      allowAutoTopicCreation: false })
    expect(first(refused.topics)).toMatchObject({ errorCode: 3 })
    const invalid = await wire.request(3, 6, { topics: [{ name: 'bad/name' }] })
    expect(first(invalid.topics)).toMatchObject({ errorCode: 17 })
  })

  it('lists every visible topic for v0 [] and v1+ null, none for v1+ []', async () => {
    await fixture.log.createTopic('listed', { partitions: 1 })
    const names = (body: Struct) => (body.topics as Struct[]).map((t) => t.name)
    expect(names(await wire.request(3, 0, { topics: [] }))).toEqual(['listed'])
    expect(names(await wire.request(3, 1, { topics: null }))).toEqual(['listed'])
    expect(names(await wire.request(3, 1, { topics: [] }))).toEqual([])
  })

  it('refuses auto-creation when the broker is told not to', async () => {
    const strict = await openBroker({ autoCreateTopics: false })
    const client = await WireClient.connect(strict.port)
    const body = await client.request(3, 8, { topics: [{ name: 'missing' }],
      allowAutoTopicCreation: true })
    expect(first(body.topics)).toMatchObject({ errorCode: 3 })
    client.close()
    await strict.close()
  })
})
