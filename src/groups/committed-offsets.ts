/**
 * The offset half of the coordinator's work, apart from membership: turning an OffsetCommit into
 * store records and per-partition outcomes, answering OffsetFetch from a group's committed
 * offsets, and writing to the store one batch at a time in issue order.
 *
 * Invariant: `SerialWriter` starts a write only after the previous one settled, so the store
 * (and its replay after a restart) sees commits in the order the coordinator accepted them.
 */
import type { CommittedOffset, Group } from './group.js'
import { offsetKey } from './group.js'
import type { OffsetRecord, OffsetStore } from './offset-store.js'
import {
  GroupErrorCode, type FetchedOffset, type OffsetCommitRequest, type OffsetFetchRequest,
  type PartitionOutcome,
} from './types.js'

/** Records to store for an accepted commit; metadata over the limit is refused per partition. */
export function commitRecords(groupId: string, request: OffsetCommitRequest, nowMs: number,
  maxMetadataBytes: number): { records: OffsetRecord[]; outcomes: PartitionOutcome[] } {
  const records: OffsetRecord[] = []
  const outcomes = request.offsets.map((o) => {
    const tooLarge = o.metadata !== null
      && Buffer.byteLength(o.metadata, 'utf8') > maxMetadataBytes
    if (!tooLarge) {
      records.push({ groupId, topic: o.topic, partition: o.partition, value: {
        offset: o.offset, metadata: o.metadata, leaderEpoch: o.leaderEpoch ?? -1,
        commitTimestampMs: nowMs,
      } })
    }
    return { topic: o.topic, partition: o.partition, errorCode: tooLarge
      ? GroupErrorCode.OFFSET_METADATA_TOO_LARGE : GroupErrorCode.NONE }
  })
  return { records, outcomes }
}

/** OffsetFetch: −1 for partitions (or groups) with nothing committed; null topics = all. */
export function fetchCommitted(group: Group | undefined, request: OffsetFetchRequest)
  : FetchedOffset[] {
  if (request.topics === null) return [...(group?.offsets.values() ?? [])].map(toFetched)
  return request.topics.flatMap(({ topic, partitions }) => partitions.map((partition) => {
    const stored = group?.offsets.get(offsetKey(topic, partition))
    return stored === undefined
      ? { topic, partition, offset: -1, metadata: null, leaderEpoch: -1 }
      : toFetched(stored)
  }))
}

function toFetched(offset: CommittedOffset): FetchedOffset {
  return {
    topic: offset.topic, partition: offset.partition, offset: offset.offset,
    metadata: offset.metadata, leaderEpoch: offset.leaderEpoch,
  }
}

export class SerialWriter {
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly store: OffsetStore) {}

  /** Resolves once these records are durable; a failure fails this write only. */
  write(records: OffsetRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    const written = this.chain.then(() => this.store.write(records))
    this.chain = written.catch(() => undefined)
    return written
  }
}
