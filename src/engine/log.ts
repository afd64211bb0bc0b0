/**
 * `Log`: the low-level embedded API over the engine. It keeps the topics in a TopicCatalog
 * (topic-catalog.ts: configurations and the partition → shard assignment, recorded on disk and
 * fixed for a partition's life), starts shard threads as partitions need them, runs recovery
 * scans in the background pool (background-pool.ts) before handing a partition to its shard, and
 * serves reads on the calling thread through PartitionReaders.
 *
 * One process holds the data directory at a time (`.lock`, a pid file; see lockLogDirectory).
 *
 * Threads: this class lives on the caller's thread. Appends go to the owning shard (coalesced per
 * turn of the event loop); reads never ask the shard.
 */
import * as path from 'node:path'
import { SluiceError } from '../errors.js'
import { readBatchHeader } from '../format/batch-header.js'
import { encodeBatch } from '../format/record-batch.js'
import { NodeFileSystem } from '../io/node-file-system.js'
import type { FileSystem } from '../io/file-system.js'
import { takePidLock, type PidLock } from '../io/pid-lock.js'
import { BackgroundPool } from './background-pool.js'
import type { TopicRecord } from './metadata-store.js'
import { PartitionReader, type PartitionReaderHandle } from './partition-reader.js'
import { logConfig } from './shard-runtime.js'
import { ShardHandle } from './shard-handle.js'
import type { PartitionKey } from './shard-protocol.js'
import { createSharedIndexBuffer } from './shared-index.js'
import { createTailWindowBuffers } from './tail-window.js'
import { TopicCatalog } from './topic-catalog.js'
import { checkPartitionIndex, invalidConfig } from './topic-config.js'
import type {
  AppendRecord, AppendResult, BatchReadResult, ReadOptions, ReadResult, TopicConfig,
  TopicDescription,
} from './types.js'
import {
  checkOffset, checkRead, partitionKey, resolveLogOptions, type LogOptions,
} from './log-options.js'

export { partitionKey, type LogOptions } from './log-options.js'

/** Suffix of a topic directory renamed for deletion (the rename frees the name at once). */
const DELETED_TOPIC_DIR_SUFFIX = '-delete'

interface OpenPartition {
  shard: ShardHandle
  reader: PartitionReader
  handle: PartitionReaderHandle
}

export class Log {
  private readonly shards: (ShardHandle | undefined)[]
  private readonly partitions = new Map<PartitionKey, OpenPartition>()
  /** Topics whose partitions are being opened (createTopic, createPartitions); see whileOpening. */
  private readonly opening = new Map<string, Promise<void>>()
  private readonly background = new BackgroundPool()
  private retentionTimer: NodeJS.Timeout | null = null
  private closed = false
  /** Recovery reports of the partitions opened by Log.open, for callers who want them. */
  readonly recoveryReports = new Map<PartitionKey, unknown>()

  private constructor(
    readonly dataDir: string,
    private readonly fs: FileSystem,
    private readonly topics: TopicCatalog,
    private readonly options: Required<LogOptions>,
    private readonly lock: PidLock,
  ) {
    this.shards = new Array<ShardHandle | undefined>(topics.shardCount)
  }

  static async open(options: LogOptions): Promise<Log> {
    const resolved = resolveLogOptions(options)
    const fs = new NodeFileSystem()
    openDataDir(fs, resolved.dataDir)
    const lock = lockLogDirectory(resolved.dataDir)
    let topics: TopicCatalog
    try {
      topics = await TopicCatalog.open({
        fs, dataDir: resolved.dataDir,
        requestedShards: options.shards ?? null, defaultShards: resolved.shards,
      })
    } catch (error) {
      lock.release()
      throw error
    }
    const log = new Log(resolved.dataDir, fs, topics, resolved, lock)
    try {
      log.removeLeftoverDeletions()
      await log.openStoredTopics()
    } catch (error) {
      await log.close().catch(() => undefined)
      throw error
    }
    log.startRetentionTimer()
    return log
  }

  // ---- topics ----------------------------------------------------------------------------

  async createTopic(name: string, config: TopicConfig): Promise<void> {
    this.checkOpen()
    const record = this.topics.add(name, config)
    await this.whileOpening(name, this.openPartitions(name, record, 0, { fresh: true }))
  }

  async createPartitions(name: string, totalCount: number): Promise<void> {
    this.checkOpen()
    const firstNew = this.topics.addPartitions(name, totalCount)
    await this.whileOpening(name,
      this.openPartitions(name, this.topics.get(name), firstNew, { fresh: true }))
  }

  /**
   * A topic is in the catalogue before its partitions are open (opening takes a round trip to
   * the shards), so a caller racing the creator, such as a consumer subscribing while a
   * producer's first send creates the topic, would find it and then no partition. Callers that
   * can wait (the async ones) wait for the opening instead; see whenOpen. They look the
   * opening up before awaiting it, so the hot path pays no await when none is pending.
   */
  private async whileOpening(name: string, work: Promise<void>): Promise<void> {
    const done: Promise<void> = work.finally(() => {
      if (this.opening.get(name) === done) this.opening.delete(name)
    })
    this.opening.set(name, done)
    await done
  }

  /** Runs `use` once the topic's partitions are open; at once when none are being opened. */
  private whenOpen<T>(topic: string, use: () => Promise<T>): Promise<T> {
    const pending = this.opening.get(topic)
    return pending === undefined ? use() : pending.then(use, use)
  }

  async deleteTopic(name: string): Promise<void> {
    this.checkOpen()
    const record = this.topics.remove(name)
    for (let p = 0; p < record.partitionShards.length; p++) {
      const key = partitionKey(name, p)
      const open = this.partitions.get(key)
      this.partitions.delete(key)
      if (open === undefined) continue
      if (open.shard.isAlive) await open.shard.request({ type: 'closePartition', key })
      open.reader.close()
      // Rename first (instant, so the name is free at once), delete in the background.
      const doomed = `${open.handle.dir}.${Date.now()}${DELETED_TOPIC_DIR_SUFFIX}`
      this.fs.rename(open.handle.dir, doomed)
      this.background.deleteInBackground({ kind: 'removeTree', path: doomed })
    }
  }

  async listTopics(): Promise<string[]> {
    this.checkOpen()
    return this.topics.names()
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const opening = this.opening.get(name)
    if (opening !== undefined) await opening.catch(() => undefined)
    const record = this.topic(name)
    return {
      name,
      config: { ...record.config },
      partitions: record.partitionShards.map((shard, partition) => {
        const { logStartOffset, highWatermark } = this.partition(name, partition).reader.offsets()
        return { partition, shard, logStartOffset, highWatermark }
      }),
    }
  }

  // ---- appends ---------------------------------------------------------------------------

  async append(topic: string, partition: number, records: AppendRecord[]): Promise<AppendResult> {
    const opening = this.opening.get(topic)
    if (opening !== undefined) await opening.catch(() => undefined)
    const open = this.partition(topic, partition)
    if (!Array.isArray(records) || records.length === 0) {
      throw invalidConfig('append needs a non-empty array of records')
    }
    const batch = encodeBatch(records, { compression: 'none' })
    // The batch is ours alone: move its memory to the shard instead of copying it.
    return this.sendBatches(open, partitionKey(topic, partition), [batch], { transfer: true })
  }

  /** The broker's path: one encoded RecordBatch v2, stored as it is apart from baseOffset. */
  async appendBatch(topic: string, partition: number, batch: Uint8Array): Promise<AppendResult> {
    const opening = this.opening.get(topic)
    if (opening !== undefined) await opening.catch(() => undefined)
    const open = this.partition(topic, partition)
    readBatchHeader(batch)
    return this.sendBatches(open, partitionKey(topic, partition), [batch])
  }

  private async sendBatches(
    open: OpenPartition, key: PartitionKey, batches: Uint8Array[],
    how: { transfer: boolean } = { transfer: false },
  ): Promise<AppendResult> {
    const ack = await open.shard.append(key, batches, how.transfer)
    return {
      baseOffset: ack.baseOffset!,
      lastOffset: ack.lastOffset!,
      logStartOffset: ack.logStartOffset!,
    }
  }

  // ---- reads -----------------------------------------------------------------------------

  read(topic: string, partition: number, offset: number, options?: ReadOptions)
    : Promise<ReadResult> {
    return this.whenOpen(topic, () =>
      this.partition(topic, partition).reader.read(checkOffset(offset), checkRead(options)))
  }

  readBatches(topic: string, partition: number, offset: number, options?: ReadOptions)
    : Promise<BatchReadResult> {
    return this.whenOpen(topic, () => this.partition(topic, partition).reader
      .readBatches(checkOffset(offset), checkRead(options)))
  }

  /** Resolves true as soon as an offset above `offset` is readable; false after maxWaitMs. */
  waitForData(topic: string, partition: number, offset: number, maxWaitMs: number)
    : Promise<boolean> {
    return this.whenOpen(topic, () =>
      this.partition(topic, partition).reader.waitForData(checkOffset(offset), maxWaitMs))
  }

  offsets(topic: string, partition: number): { logStartOffset: number; highWatermark: number } {
    return this.partition(topic, partition).reader.offsets()
  }

  /** First offset whose timestamp is ≥ timestampMs, or null (Kafka's ListOffsets). */
  async timeLookup(topic: string, partition: number, timestampMs: number)
    : Promise<number | null> {
    const opening = this.opening.get(topic)
    if (opening !== undefined) await opening.catch(() => undefined)
    const open = this.partition(topic, partition)
    const key = partitionKey(topic, partition)
    return (await open.shard.request({ type: 'timeLookup', key, timestampMs })) as number | null
  }

  /** What another thread needs to read this partition with `PartitionReader`. */
  readerHandle(topic: string, partition: number): PartitionReaderHandle {
    return this.partition(topic, partition).handle
  }

  // ---- maintenance -----------------------------------------------------------------------

  /** Applies retention now on every shard; returns the number of segments deleted. */
  async enforceRetention(): Promise<number> {
    this.checkOpen()
    let deleted = 0
    for (const shard of this.shards) {
      if (shard?.isAlive) deleted += (await shard.request({ type: 'enforceRetention' })) as number
    }
    return deleted
  }

  /** Re-runs recovery on a partition that refused appends after a storage error. */
  async recoverPartition(topic: string, partition: number): Promise<unknown> {
    const open = this.partition(topic, partition)
    return open.shard.request({ type: 'recoverPartition', key: partitionKey(topic, partition) })
  }

  /** Kills a shard thread as a crash would; for tests of shard death. */
  crashShardForTesting(shardId: number): void {
    this.shards[shardId]?.crashForTesting()
  }

  shardOf(topic: string, partition: number): number {
    return this.partition(topic, partition).shard.shardId
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer)
    await Promise.allSettled(this.shards.map((shard) => shard?.close()))
    for (const open of this.partitions.values()) open.reader.close()
    this.partitions.clear()
    await this.background.close()
    this.lock.release()
  }

  // ---- internals -------------------------------------------------------------------------

  private async openStoredTopics(): Promise<void> {
    for (const [name, record] of this.topics.entries()) {
      await this.openPartitions(name, record, 0, { fresh: false })
    }
  }

  private async openPartitions(
    name: string, record: TopicRecord, fromPartition: number, how: { fresh: boolean },
  ): Promise<void> {
    const specs = await Promise.all(
      record.partitionShards.slice(fromPartition).map(async (shardId, i) => {
        const partition = fromPartition + i
        const key = partitionKey(name, partition)
        const dir = path.join(this.dataDir, key)
        if (how.fresh || record.config.durability === 'memory') this.fs.removeTree(dir)
        this.fs.mkdirp(dir)
        const recovery = await this.background.run({
          kind: 'recover', dir, config: logConfig(record.config),
        })
        this.recoveryReports.set(key, recovery)
        const handle: PartitionReaderHandle = {
          key,
          dir,
          indexBuffer: createSharedIndexBuffer(),
          window: createTailWindowBuffers(this.options.windowSlotBytes,
            this.options.windowSlotCount),
        }
        return { shardId, key, handle, recovery, config: record.config }
      }),
    )
    for (const spec of specs) {
      const shard = this.shard(spec.shardId)
      await shard.request({
        type: 'open',
        partitions: [{
          key: spec.key, dir: spec.handle.dir, config: spec.config,
          indexBuffer: spec.handle.indexBuffer, window: spec.handle.window,
          recovery: spec.recovery,
        }],
      })
      this.partitions.set(spec.key, {
        shard, handle: spec.handle, reader: new PartitionReader(spec.handle, this.fs),
      })
    }
  }

  private shard(shardId: number): ShardHandle {
    let shard = this.shards[shardId]
    if (shard === undefined) {
      shard = new ShardHandle(
        shardId,
        (dead, error) => this.onShardDeath(dead, error),
        (paths) => this.background.deleteInBackground({ kind: 'deletePaths', paths }),
      )
      this.shards[shardId] = shard
    }
    return shard
  }

  private onShardDeath(dead: ShardHandle, error: SluiceError): void {
    for (const open of this.partitions.values()) {
      if (open.shard === dead) open.reader.markUnavailable(error)
    }
  }

  /** Topic directories renamed for deletion by a log that stopped before removing them. */
  private removeLeftoverDeletions(): void {
    for (const name of this.fs.readdir(this.dataDir)) {
      if (name.endsWith(DELETED_TOPIC_DIR_SUFFIX)) {
        this.background.deleteInBackground({
          kind: 'removeTree', path: path.join(this.dataDir, name),
        })
      }
    }
  }

  private startRetentionTimer(): void {
    const everyMs = this.options.retentionCheckIntervalMs
    if (everyMs <= 0) return
    this.retentionTimer = setInterval(() => void this.enforceRetention().catch(() => undefined),
      everyMs)
    this.retentionTimer.unref()
  }

  private topic(name: string): TopicRecord {
    this.checkOpen()
    return this.topics.get(name)
  }

  private partition(topic: string, partition: number): OpenPartition {
    const record = this.topic(topic)
    checkPartitionIndex(topic, partition, record.partitionShards.length)
    const open = this.partitions.get(partitionKey(topic, partition))
    if (open === undefined) {
      throw new SluiceError('SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION',
        `partition ${topic}-${partition} is not open`)
    }
    return open
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError('SLUICE_ERR_CLOSED', 'this Log has been closed')
  }
}

/** Creates the data directory if needed; a path that is not a usable directory is named. */
function openDataDir(fs: FileSystem, dataDir: string): void {
  const existing = fs.stat(dataDir)
  if (existing !== null && !existing.isDirectory) {
    throw invalidConfig(`dataDir ${dataDir} exists and is not a directory`)
  }
  try {
    fs.mkdirp(dataDir)
  } catch (error) {
    throw new SluiceError('SLUICE_ERR_STORAGE', `cannot create dataDir ${dataDir}: ` +
      `${(error as Error).message}`, { cause: error })
  }
}

/** Kafka's name for the file that marks a log directory as held by a running broker. */
export const LOG_LOCK_FILE = '.lock'

/**
 * One process at a time writes a log directory: a second would number its appends from its own
 * view of the tail and overwrite the first's acknowledged data. A dead holder's lock (a crash)
 * is taken over; its recovery runs as after any crash.
 */
function lockLogDirectory(dataDir: string): PidLock {
  return takePidLock(dataDir, LOG_LOCK_FILE, {
    refusal: (pid, inThisProcess) => new SluiceError('SLUICE_ERR_DIRECTORY_LOCKED',
      `log directory ${dataDir} is held by ${inThisProcess
        ? 'another open Log in this process' : `process ${pid}`} (${path.join(dataDir,
        LOG_LOCK_FILE)}); close that one first, or reach its log through its broker`),
    onTakeover: () => undefined,
  })
}
