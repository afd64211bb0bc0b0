/**
 * Where committed offsets live. `OffsetStore` is what the coordinator needs: replay every record
 * in commit order at start, and append records durably. `LogOffsetStore` keeps them in the
 * internal topic `__consumer_offsets` on the Log, in Kafka's own key/value layout, so a commit
 * is exactly as durable as a produce with durability 'fsync'; `MemoryOffsetStore` is for tests.
 *
 * Record layout (big-endian, Kafka's GroupMetadataManager formats):
 *
 *   key   = int16 version (1) · string group · string topic · int32 partition
 *   value = int16 version (3) · int64 offset · int32 leaderEpoch · nullable string metadata
 *           · int64 commitTimestampMs
 *   string = int16 length · UTF-8 bytes (length −1 = null, metadata only)
 *
 * A null value is a tombstone: the group's offset for that partition was deleted.
 *
 * Invariants: the topic has one partition, so replay order is commit order and the last record
 * for a key wins. Retention is off (−1): without compaction, deleting old segments could drop the
 * only record of a live offset. The log therefore grows with every commit (see the issue note).
 */
import { SluiceError } from '../errors.js'
import { BoundedReader } from './bounded-reader.js'
import type { Log } from '../engine/log.js'
import type { StoredOffset } from './types.js'

export const OFFSETS_TOPIC = '__consumer_offsets'
const KEY_VERSION = 1
const VALUE_VERSION = 3
/** Bytes read per step while replaying the offsets topic. */
const REPLAY_READ_BYTES = 1024 * 1024

export interface OffsetRecord {
  groupId: string
  topic: string
  partition: number
  /** null deletes the offset. */
  value: StoredOffset | null
}

export interface OffsetStore {
  /** Every record ever written, in write order. */
  load(): Promise<OffsetRecord[]>
  /** Resolves once the records are durable. */
  write(records: OffsetRecord[]): Promise<void>
}

export class MemoryOffsetStore implements OffsetStore {
  readonly records: OffsetRecord[] = []

  async load(): Promise<OffsetRecord[]> {
    return this.records.map((record) => ({ ...record }))
  }

  async write(records: OffsetRecord[]): Promise<void> {
    this.records.push(...records.map((record) => ({ ...record })))
  }
}

export class LogOffsetStore implements OffsetStore {
  private constructor(private readonly log: Log) {}

  /** Creates `__consumer_offsets` on first use. */
  static async open(log: Log): Promise<LogOffsetStore> {
    const topics = await log.listTopics()
    if (!topics.includes(OFFSETS_TOPIC)) {
      await log.createTopic(OFFSETS_TOPIC, {
        partitions: 1, durability: 'fsync', retentionMs: -1, retentionBytes: -1,
      })
    }
    return new LogOffsetStore(log)
  }

  async load(): Promise<OffsetRecord[]> {
    const out: OffsetRecord[] = []
    let { logStartOffset: next, highWatermark } = this.log.offsets(OFFSETS_TOPIC, 0)
    while (next < highWatermark) {
      const read = await this.log.read(OFFSETS_TOPIC, 0, next, { maxBytes: REPLAY_READ_BYTES })
      for (const record of read.records) {
        if (record.key === null) throw corrupt(`record ${record.offset} has no key`)
        out.push({ ...decodeOffsetKey(record.key), value: decodeOffsetValue(record.value) })
        next = record.offset + 1
      }
      highWatermark = read.highWatermark
      if (read.records.length === 0) break
    }
    return out
  }

  async write(records: OffsetRecord[]): Promise<void> {
    if (records.length === 0) return
    await this.log.append(OFFSETS_TOPIC, 0, records.map((record) => ({
      key: encodeOffsetKey(record.groupId, record.topic, record.partition),
      value: record.value === null ? null : encodeOffsetValue(record.value),
      timestamp: record.value?.commitTimestampMs,
    })))
  }
}

export function encodeOffsetKey(groupId: string, topic: string, partition: number): Buffer {
  const group = Buffer.from(groupId, 'utf8')
  const topicBytes = Buffer.from(topic, 'utf8')
  const out = Buffer.alloc(2 + 2 + group.length + 2 + topicBytes.length + 4)
  let at = out.writeInt16BE(KEY_VERSION, 0)
  at = writeString(out, at, group)
  at = writeString(out, at, topicBytes)
  out.writeInt32BE(partition, at)
  return out
}

export function decodeOffsetKey(bytes: Buffer): Omit<OffsetRecord, 'value'> {
  const reader = new BoundedReader(bytes, corrupt, 'record')
  const version = reader.int16()
  if (version !== KEY_VERSION && version !== 0) throw corrupt(`offset key version ${version}`)
  const groupId = reader.nullableString()
  const topic = reader.nullableString()
  const partition = reader.int32()
  if (groupId === null || topic === null) throw corrupt('offset key with a null name')
  reader.end()
  return { groupId, topic, partition }
}

export function encodeOffsetValue(value: StoredOffset): Buffer {
  const metadata = value.metadata === null ? null : Buffer.from(value.metadata, 'utf8')
  const out = Buffer.alloc(2 + 8 + 4 + 2 + (metadata?.length ?? 0) + 8)
  let at = out.writeInt16BE(VALUE_VERSION, 0)
  at = out.writeBigInt64BE(BigInt(value.offset), at)
  at = out.writeInt32BE(value.leaderEpoch, at)
  at = writeString(out, at, metadata)
  out.writeBigInt64BE(BigInt(value.commitTimestampMs), at)
  return out
}

export function decodeOffsetValue(bytes: Buffer | null): StoredOffset | null {
  if (bytes === null) return null
  const reader = new BoundedReader(bytes, corrupt, 'record')
  const version = reader.int16()
  if (version !== VALUE_VERSION) throw corrupt(`offset value version ${version}`)
  const value: StoredOffset = {
    offset: reader.int64(),
    leaderEpoch: reader.int32(),
    metadata: reader.nullableString(),
    commitTimestampMs: reader.int64(),
  }
  reader.end()
  return value
}

function writeString(out: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) return out.writeInt16BE(-1, at)
  if (bytes.length > 0x7fff) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', `name of ${bytes.length} bytes is too long`)
  }
  at = out.writeInt16BE(bytes.length, at)
  return at + bytes.copy(out, at)
}

function corrupt(detail: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CORRUPT_BATCH', `${OFFSETS_TOPIC}: ${detail}`)
}
