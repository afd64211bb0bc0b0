/**
 * What runs inside one shard worker thread: the owner of its partitions' logs (DESIGN rule 1).
 *
 * Group commit: appends queue up while the shard is busy; one drain takes every queued append of
 * every partition, validates each request on its own (a bad batch fails only its request), copies
 * the batches into the partition's tail window, writes each partition's group with one vectored
 * write, fdatasyncs once per partition for `fsync` topics, publishes the new high watermark in
 * the shared index, and acknowledges the whole group in one message.
 *
 * Invariant: an append is acknowledged only after its bytes are written and, for `fsync`
 * topics, synced; the shared index never shows a high watermark above what is acknowledged.
 */
import {
  AssertionError, SluiceError, assert, isSluiceError, type WireError,
} from '../errors.js'
import { verifyBatch, Codec } from '../format/batch-header.js'
import { recompressBatch } from '../format/record-batch.js'
import type { FileSystem } from '../io/file-system.js'
import { PartitionLog, type PartitionLogConfig } from '../log/index.js'
import type {
  AppendAck, AppendRequest, FromShard, PartitionKey, PartitionOpenSpec, ToShard,
} from './shard-protocol.js'
import { PartitionStatus, SharedIndexWriter } from './shared-index.js'
import { TailWindowWriter } from './tail-window.js'
import type { ResolvedTopicConfig } from './types.js'

interface OwnedPartition {
  key: PartitionKey
  config: ResolvedTopicConfig
  log: PartitionLog
  index: SharedIndexWriter
  window: TailWindowWriter
  queue: AppendRequest[]
  /** A roll happened in the group being written: publish the whole layout once it is synced. */
  layoutChanged: boolean
}

/** One request that passed validation, with the batches to write (window copies if placed). */
interface PreparedRequest {
  request: AppendRequest
  batches: Uint8Array[]
}

export class ShardRuntime {
  private readonly partitions = new Map<PartitionKey, OwnedPartition>()
  private drainScheduled = false

  constructor(
    private readonly fs: FileSystem,
    private readonly post: (message: FromShard) => void,
    private readonly clock = { nowMs: () => Date.now() },
  ) {}

  handle(message: ToShard): void {
    switch (message.type) {
      case 'append':
        for (const request of message.requests) this.enqueue(request)
        return
      case 'crashForTesting':
        throw new Error('shard crash requested by a test')
      default:
        this.reply(message.id, () => this.control(message))
    }
  }

  private control(message: Exclude<ToShard, { type: 'append' | 'crashForTesting' }>): unknown {
    switch (message.type) {
      case 'open':
        return message.partitions.map((spec) => this.open(spec))
      case 'closePartition':
        return this.closePartition(message.key)
      case 'recoverPartition':
        return this.recover(message.key)
      case 'timeLookup':
        return this.owned(message.key).log.timeLookup(message.timestampMs)
      case 'enforceRetention':
        return this.enforceRetention()
      case 'close':
        return this.closeAll()
    }
  }

  private open(spec: PartitionOpenSpec): unknown {
    assert(!this.partitions.has(spec.key), `partition ${spec.key} opened twice`)
    const { log, report } = PartitionLog.open({
      fs: this.fs,
      dir: spec.dir,
      config: logConfig(spec.config),
      clock: this.clock,
      recovered: spec.recovery as never,
    })
    const partition: OwnedPartition = {
      key: spec.key,
      config: spec.config,
      log,
      index: new SharedIndexWriter(spec.indexBuffer),
      window: new TailWindowWriter(spec.window),
      queue: [],
      layoutChanged: false,
    }
    this.partitions.set(spec.key, partition)
    this.publishLayout(partition)
    partition.index.setStatus(PartitionStatus.Open)
    return report
  }

  private enqueue(request: AppendRequest): void {
    const partition = this.partitions.get(request.key)
    if (partition === undefined) {
      this.post({ type: 'acks', acks: [failure(request.id, unknownPartition(request.key))] })
      return
    }
    partition.queue.push(request)
    if (!this.drainScheduled) {
      this.drainScheduled = true
      // setImmediate lets every message already delivered to this thread join the group.
      setImmediate(() => this.drain())
    }
  }

  /**
   * One group commit over every partition with queued appends. Partitions that promise less than
   * fsync are published and acknowledged before any fdatasync starts: an `os` topic must not
   * wait for the sync of an `fsync` topic (such as __consumer_offsets) that shares its shard.
   */
  private drain(): void {
    this.drainScheduled = false
    const earlyAcks: AppendAck[] = []
    const syncedAcks: AppendAck[] = []
    const toSync: { partition: OwnedPartition; requests: AppendRequest[] }[] = []
    for (const partition of this.partitions.values()) {
      if (partition.queue.length === 0) continue
      const requests = partition.queue.splice(0)
      const needsSync = partition.config.durability === 'fsync'
      const acks = needsSync ? syncedAcks : earlyAcks
      const accepted = this.writeGroup(partition, requests, acks)
      if (accepted.length === 0) continue
      if (needsSync) toSync.push({ partition, requests: accepted })
      else this.commitGroup(partition, accepted, acks)
    }
    if (earlyAcks.length > 0) this.post({ type: 'acks', acks: earlyAcks })
    for (const { partition, requests } of toSync) this.commitGroup(partition, requests, syncedAcks)
    if (syncedAcks.length > 0) this.post({ type: 'acks', acks: syncedAcks })
  }

  /** Validates and writes one partition's group; returns the requests that reached the file. */
  private writeGroup(
    partition: OwnedPartition, requests: AppendRequest[], acks: AppendAck[],
  ): AppendRequest[] {
    if (partition.log.isFailed) {
      for (const request of requests) acks.push(failure(request.id, failedPartition(partition)))
      return []
    }
    const prepared: PreparedRequest[] = []
    for (const request of requests) {
      try {
        prepared.push({ request, batches: request.batches.map((b) => this.prepare(partition, b)) })
      } catch (error) {
        acks.push(failure(request.id, error))
      }
    }
    if (prepared.length === 0) return []
    const batches = this.placeInWindow(partition, prepared.flatMap((p) => p.batches))
    try {
      const outcome = partition.log.append(batches)
      this.checkWindowPlacement(partition, outcome.batches, outcome.rolled)
      let next = 0
      for (const { request } of prepared) {
        const first = outcome.batches[next]!
        const last = outcome.batches[next + request.batches.length - 1]!
        next += request.batches.length
        acks.push({ id: request.id, baseOffset: first.baseOffset, lastOffset: last.lastOffset })
      }
      // Nothing is published before the group is synced: readers must never see a high
      // watermark above what is acknowledged, a rolled group's included.
      if (outcome.rolled) partition.layoutChanged = true
      else this.pendingIndexEntries(partition).push(...outcome.indexEntries)
      return prepared.map((p) => p.request)
    } catch (error) {
      partition.window.reset()
      this.markFailedIfStorage(partition, error)
      for (const { request } of prepared) acks.push(failure(request.id, error))
      return []
    }
  }

  /** Checks one incoming batch and applies the topic's codec to uncompressed ones. */
  private prepare(partition: OwnedPartition, batch: Uint8Array): Uint8Array {
    const header = verifyBatch(batch)
    const limit = partition.config.maxMessageBytes
    if (header.sizeBytes > limit) {
      throw new SluiceError(
        'SLUICE_ERR_RECORD_TOO_LARGE',
        `batch of ${header.sizeBytes} bytes exceeds maxMessageBytes ${limit} of ${partition.key}`,
      )
    }
    const codec = partition.config.compression
    if (codec === 'none' || header.codec !== Codec.none) return batch
    const compressed = recompressBatch(Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength),
      codec)
    return compressed.byteLength < batch.byteLength ? compressed : batch
  }

  /**
   * Copies the group into the tail window at the positions the log will give them when it does
   * not roll. When it does roll (checked after the write), the window is reset: bytes filed under
   * the wrong segment lie beyond that segment's end, where no reader ever asks.
   */
  private placeInWindow(partition: OwnedPartition, batches: Uint8Array[]): Uint8Array[] {
    const segments = partition.log.segments()
    const active = segments[segments.length - 1]
    if (active === undefined) return batches
    let position = active.sizeBytes
    partition.window.beginGroup()
    return batches.map((batch) => {
      const placed = partition.window.place(batch, active.baseOffset, position)
      position += batch.byteLength
      return placed ?? batch
    })
  }

  private checkWindowPlacement(
    partition: OwnedPartition, written: { segmentBaseOffset: number }[], rolled: boolean,
  ): void {
    const segments = partition.log.segments()
    const activeBase = segments[segments.length - 1]?.baseOffset
    if (rolled || written.some((batch) => batch.segmentBaseOffset !== activeBase)) {
      partition.window.reset()
    }
  }

  /** Syncs (for fsync topics), then publishes the high watermark; failures fail the group. */
  private commitGroup(
    partition: OwnedPartition, requests: AppendRequest[], acks: AppendAck[],
  ): void {
    const ids = new Set(requests.map((r) => r.id))
    try {
      if (partition.config.durability === 'fsync') partition.log.sync()
    } catch (error) {
      partition.window.reset()
      this.markFailedIfStorage(partition, error)
      for (const ack of acks) {
        if (!ids.has(ack.id) || ack.error !== undefined) continue
        delete ack.baseOffset
        delete ack.lastOffset
        ack.error = toWire(error)
      }
      return
    }
    const logStartOffset = partition.log.logStartOffset
    for (const ack of acks) if (ids.has(ack.id)) ack.logStartOffset = logStartOffset
    if (partition.layoutChanged) this.publishLayout(partition)
    else this.publishAppend(partition)
  }

  private readonly indexEntries = new Map<PartitionKey, { offset: number; position: number }[]>()

  private pendingIndexEntries(partition: OwnedPartition): { offset: number; position: number }[] {
    let entries = this.indexEntries.get(partition.key)
    if (entries === undefined) this.indexEntries.set(partition.key, (entries = []))
    return entries
  }

  private publishAppend(partition: OwnedPartition): void {
    const segments = partition.log.segments()
    const active = segments[segments.length - 1]!
    const entries = this.pendingIndexEntries(partition).splice(0)
    partition.index.publishAppend(partition.log.logEndOffset, active.sizeBytes, entries)
  }

  private publishLayout(partition: OwnedPartition): void {
    partition.layoutChanged = false
    this.pendingIndexEntries(partition).length = 0
    const segments = partition.log.segments()
    const active = segments[segments.length - 1]
    const activeIndex = active === undefined ? [] : partition.log.indexEntries(active.baseOffset)
    partition.index.publishLayout({
      logStartOffset: partition.log.logStartOffset,
      highWatermark: partition.log.logEndOffset,
      segments: segments.map((s) => ({
        baseOffset: s.baseOffset, committedBytes: s.sizeBytes, nextOffset: s.nextOffset,
      })),
    }, activeIndex)
  }

  private markFailedIfStorage(partition: OwnedPartition, error: unknown): void {
    if (isSluiceError(error, 'SLUICE_ERR_STORAGE') || partition.log.isFailed) {
      partition.index.setStatus(PartitionStatus.StorageFailed)
    }
  }

  private recover(key: PartitionKey): unknown {
    const partition = this.owned(key)
    const report = partition.log.recover()
    partition.window.reset()
    this.publishLayout(partition)
    partition.index.setStatus(PartitionStatus.Open)
    return report
  }

  private enforceRetention(): number {
    let deletedSegments = 0
    for (const partition of this.partitions.values()) {
      if (partition.log.isFailed) continue
      const deleted = partition.log.enforceRetention()
      if (deleted.length === 0) continue
      deletedSegments += deleted.length
      this.publishLayout(partition)
      this.post({ type: 'backgroundDelete', paths: deleted.flatMap((s) => s.deletedPaths) })
    }
    return deletedSegments
  }

  private closePartition(key: PartitionKey): null {
    const partition = this.owned(key)
    this.partitions.delete(key)
    partition.index.setStatus(PartitionStatus.Deleted)
    for (const request of partition.queue) {
      this.post({ type: 'acks', acks: [failure(request.id, unknownPartition(key))] })
    }
    partition.log.close(false)
    return null
  }

  private closeAll(): null {
    this.drain()
    for (const partition of this.partitions.values()) {
      partition.log.close(!partition.log.isFailed)
      partition.index.setStatus(PartitionStatus.Closed)
    }
    this.partitions.clear()
    return null
  }

  private owned(key: PartitionKey): OwnedPartition {
    const partition = this.partitions.get(key)
    if (partition === undefined) throw unknownPartition(key)
    return partition
  }

  private reply(id: number, run: () => unknown): void {
    try {
      this.post({ type: 'reply', id, result: run() })
    } catch (error) {
      this.post({ type: 'reply', id, error: toWire(error) })
    }
  }
}

export function logConfig(config: ResolvedTopicConfig): PartitionLogConfig {
  return {
    segmentBytes: config.segmentBytes,
    segmentMs: config.segmentMs,
    retentionMs: config.retentionMs,
    retentionBytes: config.retentionBytes,
    durability: config.durability,
    indexIntervalBytes: config.indexIntervalBytes,
    maxMessageBytes: config.maxMessageBytes,
  }
}

function failure(id: number, error: unknown): AppendAck {
  return { id, error: toWire(error) }
}

export function toWire(error: unknown): WireError {
  if (error instanceof SluiceError) return error.toWire()
  // A broken invariant stops the shard (DESIGN rule 7): stopping beats corrupting.
  if (error instanceof AssertionError) throw error
  // Anything else reaching here is a bug or an I/O error the log did not classify.
  const message = error instanceof Error ? error.message : String(error)
  return { code: 'SLUICE_ERR_STORAGE', message: `unexpected shard error: ${message}` }
}

function unknownPartition(key: PartitionKey): SluiceError {
  return new SluiceError('SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION', `no partition ${key} here`)
}

function failedPartition(partition: OwnedPartition): SluiceError {
  return new SluiceError(
    'SLUICE_ERR_STORAGE',
    `partition ${partition.key} refuses appends after a storage error; recover it first`,
  )
}
