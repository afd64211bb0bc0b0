/**
 * The offset half of the coordinator's work, apart from membership: deciding whether an
 * OffsetCommit may proceed, turning it into store records and per-partition outcomes, applying
 * stored records (a commit, a tombstone, or a replayed one) to a group's committed offsets,
 * answering OffsetFetch from them, and writing to the store one batch at a time in issue order.
 * GroupCoordinator (./coordinator.ts) sequences these around its membership state.
 *
 * Invariants: `SerialWriter` starts a write only after the previous one settled, so the store
 * (and its replay after a restart) sees commits in the order the coordinator accepted them; a
 * refused commit (checkCommit, or a failed write) answers every partition with one error code.
 */
import type { CommittedOffset, Group } from './group.js'
import { groupFor, offsetKey } from './group.js'
import type { OffsetRecord, OffsetStore } from './offset-store.js'
import {
  GroupErrorCode, type FetchedOffset, type GroupErrorCodeValue, type OffsetCommitRequest,
  type OffsetFetchRequest, type PartitionOutcome,
} from './types.js'

/**
 * Why an OffsetCommit is refused before anything is written, or null if it may proceed.
 * `group` is the request's group as the coordinator holds it (undefined if unknown).
 */
export function checkCommit(group: Group | undefined, request: OffsetCommitRequest)
  : GroupErrorCodeValue | null {
  if (typeof request.groupId !== 'string' || request.groupId.length === 0) {
    return GroupErrorCode.INVALID_GROUP_ID
  }
  if (request.generationId < 0 && request.memberId === '') {
    // A "simple" commit (admin tools, manual assignment) only on a group with no members.
    return group === undefined || group.members.size === 0
      ? null : GroupErrorCode.UNKNOWN_MEMBER_ID
  }
  // Kafka's order: no such group (a commit from an older generation) → ILLEGAL_GENERATION;
  // then the member, then its generation, and only then the rebalance in progress, so a stale
  // member learns it is stale rather than to wait.
  if (group === undefined) return GroupErrorCode.ILLEGAL_GENERATION
  if (!group.members.has(request.memberId)) return GroupErrorCode.UNKNOWN_MEMBER_ID
  if (request.generationId !== group.generationId) return GroupErrorCode.ILLEGAL_GENERATION
  if (group.state === 'CompletingRebalance') return GroupErrorCode.REBALANCE_IN_PROGRESS
  return null
}

/**
 * One error code for every partition of a refused commit. Kafka answers a commit the offsets
 * log cannot store this way too, with a retriable NOT_COORDINATOR, rather than failing the
 * whole request (which would close the client's connection).
 */
export function refuseCommit(request: OffsetCommitRequest, errorCode: GroupErrorCodeValue)
  : PartitionOutcome[] {
  return request.offsets.map((o) => ({ topic: o.topic, partition: o.partition, errorCode }))
}

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

/** Applies one stored record to its group: a value sets the offset, a tombstone drops it. */
export function applyRecord(group: Group, record: OffsetRecord): void {
  const key = offsetKey(record.topic, record.partition)
  if (record.value === null) group.offsets.delete(key)
  else {
    group.offsets.set(key, { topic: record.topic, partition: record.partition, ...record.value })
  }
}

/**
 * Rebuilds `groups` from the store's records, in the order they were written: every group with
 * committed offsets comes back Empty, and one whose offsets were all tombstoned is not kept.
 */
export function replayOffsets(groups: Map<string, Group>, records: OffsetRecord[]): void {
  for (const record of records) applyRecord(groupFor(groups, record.groupId), record)
  for (const [groupId, group] of groups) {
    if (group.offsets.size === 0) groups.delete(groupId)
  }
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
