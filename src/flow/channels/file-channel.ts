/**
 * The durable file channel, built on the storage engine rather than Flume's Java file format:
 * the events are a single-partition log with durability fsync, and the committed take position
 * is a second one (channel-log.ts has the layout, the generations and the recovery table). So
 * the channel inherits the log's CRC-32C, recovery and group commit.
 *
 *   put commit   one append of the whole batch; the shard group-commits it with every other
 *                append waiting (one fdatasync), and the commit resolves only after that sync:
 *                a source acknowledges only what is on disk.
 *   take         reads ahead from the oldest generation (bounded by readAheadBytes); rolled-back
 *                takes go back to the head in order.
 *   take commit  the take position (lowest offset not yet commit-taken) is appended to the takes
 *                log and fsynced by the shard thread, off the event loop; all commits in one
 *                turn of the event loop share one record.
 *   restart      replays everything from the take position: committed but untaken events
 *                return; events whose take had not committed return too (duplicates, no loss).
 *
 * Invariants: every event the TakeQueue (take-queue.ts) holds belongs to the take generation
 * (the take side moves on only when the queue is empty and no append to the old generation is in
 * flight); `committed` counts untaken events in all live generations.
 * capacity (events) and minimumRequiredSpace (free bytes on the data volume) are checked at put
 * commit (put-admission.ts); a put waits up to keep-alive for room, then fails with
 * SLUICE_ERR_CHANNEL_FULL.
 * From start to stop the channel holds `in_use.lock` in both directories (directory-lock.ts), so
 * a second channel or agent on them refuses to start instead of losing acknowledged events.
 */
import * as path from 'node:path'
import { Log } from '../../engine/log.js'
import { NodeFileSystem } from '../../io/node-file-system.js'
import type { FileSystem } from '../../io/file-system.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { silentLogger } from '../event.js'
import { channelCounter, type ChannelCounter } from '../metrics/counters.js'
import { Signal } from '../signal.js'
import {
  StagedTransaction, channelError, type Channel, type StagingChannel, type Transaction,
} from '../transaction.js'
import { lockDirectory, type DirectoryLock } from './directory-lock.js'
import { volumeFreeBytes, type FreeBytes } from './free-space.js'
import { PutAdmission } from './put-admission.js'
import {
  MAX_PUT_BATCH_BYTES, createGeneration, eventsTopic, recordTakePosition, recoverChannelLog,
  retireGeneration,
} from './channel-log.js'
import { writeTakePosition } from './take-position.js'
import { TakeQueue, type StoredEvent } from './take-queue.js'

export interface FileChannelOptions {
  checkpointDir: string
  dataDirs: string[]
  capacity?: number
  transactionCapacity?: number
  keepAliveSeconds?: number
  minimumRequiredSpace?: number
  /** Segment size of the channel's log (Flume's maxFileSize). */
  maxFileSize?: number
  rotateAfterEvents?: number
  readAheadBytes?: number
  freeBytes?: FreeBytes
  logger?: FlowLogger
}

const MIN_REQUIRED_SPACE_FLOOR = 1024 * 1024

export class FileChannel implements Channel, StagingChannel<StoredEvent> {
  readonly type = 'file'
  readonly capacity: number
  readonly transactionCapacity: number
  readonly counter: ChannelCounter
  readonly dataAvailable = new Signal()
  readonly keepAliveMs: number
  readonly minimumRequiredSpace: number
  private readonly fs: FileSystem = new NodeFileSystem()
  private readonly admission: PutAdmission
  private readonly takeQueue = new TakeQueue()
  private log: Log | null = null
  private locks: DirectoryLock[] = []
  private takeGeneration = 0
  private putGeneration = 0
  /** Appends in flight per generation: the take side must not leave one that has some. */
  private readonly appending = new Map<number, number>()
  private readonly flushesDone = new Signal()
  private flushesInFlight = 0
  private durableTakeOffset = 0
  private committed = 0
  private reading: Promise<void> | null = null
  private positionWrite: Promise<void> | null = null
  private rotation: Promise<void> | null = null

  constructor(readonly name: string, private readonly options: FileChannelOptions) {
    this.capacity = options.capacity ?? 1_000_000
    this.transactionCapacity = options.transactionCapacity ?? 10_000
    this.keepAliveMs = (options.keepAliveSeconds ?? 3) * 1000
    this.minimumRequiredSpace = Math.max(MIN_REQUIRED_SPACE_FLOOR,
      options.minimumRequiredSpace ?? 524_288_000)
    this.counter = channelCounter(name)
    const freeBytes = options.freeBytes ?? volumeFreeBytes
    this.admission = new PutAdmission({
      channelName: name, capacity: this.capacity, keepAliveMs: this.keepAliveMs,
      minimumRequiredSpace: this.minimumRequiredSpace,
      freeBytes: () => freeBytes(this.dataDir), committedEvents: () => this.committed,
    })
  }

  private get topic(): string {
    return eventsTopic(this.takeGeneration)
  }

  /** The directories this channel owns; two channels must never share one. */
  get directories(): string[] {
    return [path.resolve(this.dataDir), path.resolve(this.options.checkpointDir)]
  }

  private get dataDir(): string {
    return this.options.dataDirs[0]!
  }

  private get maxFileSizeBytes(): number {
    return Math.min(this.options.maxFileSize ?? 256 * 1024 * 1024, 1024 ** 3)
  }

  async start(): Promise<void> {
    this.counter.start()
    this.fs.mkdirp(this.options.checkpointDir)
    this.fs.mkdirp(this.dataDir)
    this.lockDirectories()
    try {
      await this.openAndRecover()
    } catch (error) {
      await this.log?.close().catch(() => undefined)
      this.log = null
      this.releaseLocks()
      throw error
    }
  }

  private async openAndRecover(): Promise<void> {
    // Retention runs only on the takes log (the events log keeps everything until rotation).
    const log = await Log.open({ dataDir: this.dataDir, shards: 1,
      retentionCheckIntervalMs: 30_000 })
    this.log = log
    const logger = this.options.logger ?? silentLogger
    const recovered = await recoverChannelLog(log, this.fs, this.options.checkpointDir,
      this.maxFileSizeBytes, logger, this.name)
    this.takeGeneration = recovered.takeGeneration
    this.putGeneration = recovered.putGeneration
    this.takeQueue.restartAt(recovered.takeOffset)
    this.durableTakeOffset = recovered.takeOffset
    this.committed = recovered.untaken
    writeTakePosition(this.fs, this.options.checkpointDir,
      { generation: this.takeGeneration, takeOffset: recovered.takeOffset })
    if (this.committed > 0) {
      logger.info(`channel ${this.name}: replaying ${this.committed} committed, untaken events`)
    }
  }

  /** Checkpoint dir first, then the data dir (once, if they are the same); all or none. */
  private lockDirectories(): void {
    const logger = this.options.logger ?? silentLogger
    const dirs = [...new Set([this.options.checkpointDir, this.dataDir].map((dir) =>
      path.resolve(dir)))]
    try {
      for (const dir of dirs) this.locks.push(lockDirectory(dir, this.name, logger))
    } catch (error) {
      this.releaseLocks()
      throw error
    }
  }

  /** Only the locks this channel took: an agent whose start failed stops every channel. */
  private releaseLocks(): void {
    for (const lock of this.locks) lock.release()
    this.locks = []
  }

  async stop(): Promise<void> {
    while (this.flushesInFlight > 0) await this.flushesDone.wait(1000)
    await this.rotation
    this.counter.stop()
    try {
      await this.closeLog()
    } finally {
      this.releaseLocks()
    }
  }

  private async closeLog(): Promise<void> {
    if (this.log === null) return
    // Flume's checkpointOnClose: the file holds the last durable position too.
    writeTakePosition(this.fs, this.options.checkpointDir,
      { generation: this.takeGeneration, takeOffset: this.durableTakeOffset })
    await this.settleDeletes()
    await this.log.close()
    this.log = null
  }

  /**
   * Log.deleteTopic renames the partition and removes it in the engine's background pool without
   * waiting; closing the Log meanwhile rejects that task. So after a retirement, stop waits
   * (bounded) until the `*-delete` directories are gone.
   */
  private async settleDeletes(): Promise<void> {
    const deadline = Date.now() + 5000
    while (this.fs.readdir(this.dataDir).some((entry) => entry.endsWith('-delete'))
      && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  size(): number {
    return this.committed - this.takeQueue.inFlightCount
  }

  getTransaction(): Transaction {
    return new StagedTransaction(this)
  }

  private openLog(): Log {
    if (this.log === null) throw channelError(`channel ${this.name} is not started`)
    return this.log
  }

  // ---- puts --------------------------------------------------------------------------------

  async commitPuts(puts: FlowEvent[]): Promise<void> {
    await this.rotation
    await this.admission.reserve(puts)
    const generation = this.putGeneration
    this.appending.set(generation, (this.appending.get(generation) ?? 0) + 1)
    try {
      await this.openLog().append(eventsTopic(generation), 0,
        puts.map((event) => ({ value: event.body, headers: event.headers })))
      this.committed += puts.length
    } catch (error) {
      this.counter.add('EventPutErrorCount', puts.length)
      throw channelError(`channel ${this.name}: append failed: ${(error as Error).message}`)
    } finally {
      this.admission.release(puts.length)
      const left = this.appending.get(generation)! - 1
      if (left === 0) this.appending.delete(generation)
      else this.appending.set(generation, left)
    }
    this.dataAvailable.notify()
    this.rotateIfFull(generation)
  }

  /** Starts a new put generation once this one holds rotateAfterEvents events. */
  private rotateIfFull(generation: number): void {
    if (this.rotation !== null || generation !== this.putGeneration) return
    const log = this.openLog()
    const events = log.offsets(eventsTopic(generation), 0).highWatermark
    if (events < (this.options.rotateAfterEvents ?? 100_000)) return
    this.rotation = createGeneration(log, generation + 1, this.maxFileSizeBytes)
      .then(() => { this.putGeneration = generation + 1 })
      .finally(() => { this.rotation = null })
  }

  // ---- takes -------------------------------------------------------------------------------

  eventOf(stored: StoredEvent): FlowEvent {
    return stored.event
  }

  async takeOne(): Promise<StoredEvent | null> {
    let next = this.takeQueue.take()
    if (next === undefined) {
      await this.fill()
      next = this.takeQueue.takeReadAhead()
    }
    return next ?? null
  }

  /** One log read at a time; concurrent takers share it. */
  private fill(): Promise<void> {
    this.reading ??= this.readFromLog().finally(() => { this.reading = null })
    return this.reading
  }

  private async readFromLog(): Promise<void> {
    const log = this.openLog()
    if (this.takeQueue.readOffset >= log.offsets(this.topic, 0).highWatermark) {
      if (!this.drainedTakeGeneration()) return
      await this.advanceTakeGeneration()
      if (this.takeQueue.readOffset >= log.offsets(this.topic, 0).highWatermark) return
    }
    let { records } = await log.read(this.topic, 0, this.takeQueue.readOffset,
      { maxBytes: this.options.readAheadBytes ?? 1024 * 1024 })
    if (records.length === 0) {
      // Log.read returns nothing when the first batch is larger than maxBytes (seen with
      // batches over the 1 MiB tail-window slot); a put batch is at most MAX_PUT_BATCH_BYTES.
      ;({ records } = await log.read(this.topic, 0, this.takeQueue.readOffset,
        { maxBytes: MAX_PUT_BATCH_BYTES }))
    }
    this.takeQueue.addRead(records)
  }

  async commitTakes(takes: StoredEvent[]): Promise<void> {
    this.takeQueue.settle(takes)
    this.committed -= takes.length
    try {
      await this.persistTakePosition()
    } catch (error) {
      // Not durable, so not taken: the caller's rollback puts them back at the head.
      this.takeQueue.unsettle(takes)
      this.committed += takes.length
      throw error
    }
    this.admission.spaceFreed()
    // The take side may now be free to move to the next generation: let takers look again.
    if (this.takeGeneration < this.putGeneration) this.dataAvailable.notify()
  }

  rollbackTakes(takes: StoredEvent[]): void {
    this.takeQueue.rollback(takes)
    if (takes.length > 0) this.dataAvailable.notify()
  }

  /** Every take commit in this turn of the event loop shares one durable record. */
  private persistTakePosition(): Promise<void> {
    if (this.positionWrite !== null) return this.positionWrite
    this.flushesInFlight++
    this.positionWrite = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        this.positionWrite = null
        const takeOffset = this.takeQueue.lowestUntaken()
        if (takeOffset === this.durableTakeOffset) return
        const position = { generation: this.takeGeneration, takeOffset }
        try {
          await recordTakePosition(this.openLog(), position)
        } catch (error) {
          this.counter.add('CheckpointWriteErrorCount')
          throw channelError(`channel ${this.name}: take position write failed: ` +
            `${(error as Error).message}`)
        }
        if (position.generation === this.takeGeneration) {
          this.durableTakeOffset = Math.max(this.durableTakeOffset, takeOffset)
        }
      })
      .finally(() => {
        if (--this.flushesInFlight === 0) this.flushesDone.notify()
      })
    return this.positionWrite
  }

  /** Every event of the take generation is commit-taken and no more can arrive in it. */
  private drainedTakeGeneration(): boolean {
    return this.takeGeneration < this.putGeneration && this.flushesInFlight === 0
      && !this.appending.has(this.takeGeneration) && this.takeQueue.isEmpty
  }

  /** Records position 0 of the next generation durably, then deletes the drained one. */
  private async advanceTakeGeneration(): Promise<void> {
    const log = this.openLog()
    const drained = this.takeGeneration
    await recordTakePosition(log, { generation: drained + 1, takeOffset: 0 })
    this.takeGeneration = drained + 1
    this.takeQueue.restartAt(log.offsets(this.topic, 0).logStartOffset)
    this.durableTakeOffset = this.takeQueue.readOffset
    await retireGeneration(log, drained)
  }

  /** For tests and --validate output: where the channel keeps its files. */
  describe(): string {
    return `takes from ${path.join(this.dataDir, `${this.topic}-0`)}, puts to ` +
      `${eventsTopic(this.putGeneration)}, take position in ${this.options.checkpointDir}`
  }
}
