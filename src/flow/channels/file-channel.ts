/**
 * The durable file channel, built on the storage engine rather than Flume's Java file format:
 * the events are a single-partition log with durability fsync, and the committed take position
 * is a second one (channel-log.ts has the layout and the recovery table). So the channel
 * inherits the log's CRC-32C, recovery and group commit.
 *
 *   put commit   one append of the whole batch; the shard group-commits it with every other
 *                append waiting (one fdatasync), and the commit resolves only after that sync:
 *                a source acknowledges only what is on disk.
 *   take         reads ahead from the log (bounded by readAheadBytes); rolled-back takes go back
 *                to the head in order.
 *   take commit  the take position (lowest offset not yet commit-taken) is appended to the takes
 *                log and fsynced by the shard thread, off the event loop; all commits in one
 *                turn of the event loop share one record.
 *   restart      replays everything from the take position: committed but untaken events
 *                return; events whose take had not committed return too (duplicates, no loss).
 *
 * When the channel is empty and its log holds rotateAfterEvents events, it rotates to a fresh
 * generation so disk use stays bounded. capacity (events) and minimumRequiredSpace (free bytes
 * on the data volume) are checked at put commit; a put waits up to keep-alive for room, then
 * fails with SLUICE_ERR_CHANNEL_FULL.
 */
import * as path from 'node:path'
import { Log } from '../../engine/log.js'
import type { StoredRecord } from '../../engine/types.js'
import { NodeFileSystem } from '../../io/node-file-system.js'
import type { FileSystem } from '../../io/file-system.js'
import { Deque } from '../deque.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { silentLogger } from '../event.js'
import { channelCounter, type ChannelCounter } from '../metrics/counters.js'
import { Signal } from '../signal.js'
import {
  BasicTransaction, channelError, channelFull, type Channel, type Transaction,
} from '../transaction.js'
import { volumeFreeBytes, type FreeBytes } from './free-space.js'
import {
  MAX_PUT_BATCH_BYTES, eventsTopic, recordTakePosition, recoverChannelLog, rotateChannelLog,
} from './channel-log.js'
import { writeTakePosition } from './take-position.js'

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

interface Stored {
  offset: number
  event: FlowEvent
}

const MIN_REQUIRED_SPACE_FLOOR = 1024 * 1024

export class FileChannel implements Channel {
  readonly type = 'file'
  readonly capacity: number
  readonly transactionCapacity: number
  readonly counter: ChannelCounter
  readonly dataAvailable = new Signal()
  readonly keepAliveMs: number
  readonly minimumRequiredSpace: number
  private readonly fs: FileSystem = new NodeFileSystem()
  private readonly spaceFreed = new Signal()
  private readonly redeliver = new Deque<Stored>()
  private readonly readAhead = new Deque<Stored>()
  private readonly inFlight = new Set<number>()
  private log: Log | null = null
  private generation = 0
  private readOffset = 0
  private durableTakeOffset = 0
  private committed = 0
  private reservedPuts = 0
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
  }

  private get topic(): string {
    return eventsTopic(this.generation)
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
    // Retention runs only on the takes log (the events log keeps everything until rotation).
    const log = await Log.open({ dataDir: this.dataDir, shards: 1,
      retentionCheckIntervalMs: 30_000 })
    this.log = log
    const logger = this.options.logger ?? silentLogger
    const recovered = await recoverChannelLog(log, this.fs, this.options.checkpointDir,
      this.maxFileSizeBytes, logger, this.name)
    this.generation = recovered.generation
    this.readOffset = recovered.takeOffset
    this.durableTakeOffset = recovered.takeOffset
    this.committed = recovered.untaken
    writeTakePosition(this.fs, this.options.checkpointDir,
      { generation: this.generation, takeOffset: recovered.takeOffset })
    if (this.committed > 0) {
      logger.info(`channel ${this.name}: replaying ${this.committed} committed, untaken events`)
    }
  }

  async stop(): Promise<void> {
    await this.positionWrite
    await this.rotation
    this.counter.stop()
    if (this.log === null) return
    // Flume's checkpointOnClose: the file holds the last durable position too.
    writeTakePosition(this.fs, this.options.checkpointDir,
      { generation: this.generation, takeOffset: this.durableTakeOffset })
    await this.settleDeletes()
    await this.log.close()
    this.log = null
  }

  /**
   * Log.deleteTopic renames the partition and removes it in the engine's background pool without
   * waiting; closing the Log meanwhile rejects that task. So after a rotation, stop waits
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
    return this.committed - this.inFlight.size
  }

  getTransaction(): Transaction {
    return new FileTransaction(this)
  }

  private openLog(): Log {
    if (this.log === null) throw channelError(`channel ${this.name} is not started`)
    return this.log
  }

  // ---- puts --------------------------------------------------------------------------------

  async commitPuts(puts: FlowEvent[]): Promise<void> {
    await this.rotation
    await this.reserve(puts)
    try {
      await this.openLog().append(this.topic, 0,
        puts.map((event) => ({ value: event.body, headers: event.headers })))
      this.committed += puts.length
    } catch (error) {
      this.counter.add('EventPutErrorCount', puts.length)
      throw channelError(`channel ${this.name}: append failed: ${(error as Error).message}`)
    } finally {
      this.reservedPuts -= puts.length
    }
    this.dataAvailable.notify()
  }

  private async reserve(puts: FlowEvent[]): Promise<void> {
    const batchBytes = puts.reduce((sum, event) => sum + event.body.byteLength + 64, 0)
    const freeBytes = (this.options.freeBytes ?? volumeFreeBytes)(this.dataDir)
    if (freeBytes - batchBytes < this.minimumRequiredSpace) {
      throw channelFull(`Usable space exhausted on channel ${this.name}, only ${freeBytes} ` +
        `bytes remaining, required ${this.minimumRequiredSpace + batchBytes} bytes`)
    }
    const deadline = Date.now() + this.keepAliveMs
    while (this.committed + this.reservedPuts + puts.length > this.capacity) {
      const leftMs = deadline - Date.now()
      if (leftMs <= 0 || !(await this.spaceFreed.wait(leftMs))) {
        throw channelFull(`The channel ${this.name} has reached its capacity ` +
          `${this.capacity}. This might be the result of a sink on the channel having too ` +
          'low of batch size, a downstream system running slower than normal, or that the ' +
          'channel capacity is just too low')
      }
    }
    this.reservedPuts += puts.length
  }

  // ---- takes -------------------------------------------------------------------------------

  async takeOne(): Promise<Stored | null> {
    await this.rotation
    let next = this.redeliver.shift() ?? this.readAhead.shift()
    if (next === undefined) {
      await this.fill()
      next = this.readAhead.shift()
    }
    if (next === undefined) return null
    this.inFlight.add(next.offset)
    return next
  }

  /** One log read at a time; concurrent takers share it. */
  private fill(): Promise<void> {
    this.reading ??= this.readFromLog().finally(() => { this.reading = null })
    return this.reading
  }

  private async readFromLog(): Promise<void> {
    const log = this.openLog()
    if (this.readOffset >= log.offsets(this.topic, 0).highWatermark) return
    let { records } = await log.read(this.topic, 0, this.readOffset,
      { maxBytes: this.options.readAheadBytes ?? 1024 * 1024 })
    if (records.length === 0) {
      // Log.read returns nothing when the first batch is larger than maxBytes (seen with
      // batches over the 1 MiB tail-window slot); a put batch is at most MAX_PUT_BATCH_BYTES.
      ;({ records } = await log.read(this.topic, 0, this.readOffset,
        { maxBytes: MAX_PUT_BATCH_BYTES }))
    }
    for (const record of records) {
      if (record.offset < this.readOffset) continue
      this.readAhead.pushBack({ offset: record.offset, event: toEvent(record) })
      this.readOffset = record.offset + 1
    }
  }

  async commitTakes(takes: Stored[]): Promise<void> {
    for (const taken of takes) this.inFlight.delete(taken.offset)
    this.committed -= takes.length
    try {
      await this.persistTakePosition()
    } catch (error) {
      // Not durable, so not taken: the caller's rollback puts them back at the head.
      for (const taken of takes) this.inFlight.add(taken.offset)
      this.committed += takes.length
      throw error
    }
    this.spaceFreed.notify()
    if (this.shouldRotate()) this.rotation ??= this.rotate().finally(() => { this.rotation = null })
  }

  rollbackTakes(takes: Stored[]): void {
    for (let i = takes.length - 1; i >= 0; i--) {
      this.inFlight.delete(takes[i]!.offset)
      this.redeliver.pushFront(takes[i]!)
    }
    if (takes.length > 0) this.dataAvailable.notify()
  }

  /** The lowest offset whose take has not committed: nothing below it may come back. */
  private lowestUntaken(): number {
    let lowest = this.readAhead.peek()?.offset ?? this.readOffset
    for (const stored of this.redeliver) lowest = Math.min(lowest, stored.offset)
    for (const offset of this.inFlight) lowest = Math.min(lowest, offset)
    return lowest
  }

  /** Every take commit in this turn of the event loop shares one durable record. */
  private persistTakePosition(): Promise<void> {
    this.positionWrite ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        this.positionWrite = null
        const takeOffset = this.lowestUntaken()
        if (takeOffset === this.durableTakeOffset) return
        try {
          await recordTakePosition(this.openLog(), { generation: this.generation, takeOffset })
        } catch (error) {
          this.counter.add('CheckpointWriteErrorCount')
          throw channelError(`channel ${this.name}: take position write failed: ` +
            `${(error as Error).message}`)
        }
        this.durableTakeOffset = Math.max(this.durableTakeOffset, takeOffset)
      })
    return this.positionWrite
  }

  private shouldRotate(): boolean {
    return this.committed === 0 && this.reservedPuts === 0 && this.inFlight.size === 0
      && this.redeliver.length === 0 && this.readAhead.length === 0 && this.reading === null
      && this.readOffset >= (this.options.rotateAfterEvents ?? 100_000)
  }

  /** Switches to an empty log; puts wait on `rotation`, and nothing is in flight meanwhile. */
  private async rotate(): Promise<void> {
    await rotateChannelLog(this.openLog(), this.fs, this.options.checkpointDir, this.generation,
      this.maxFileSizeBytes)
    this.generation++
    this.readOffset = 0
    this.durableTakeOffset = 0
  }

  /** For tests and --validate output: where the channel keeps its files. */
  describe(): string {
    return `log ${path.join(this.dataDir, `${this.topic}-0`)}, ` +
      `take position in ${this.options.checkpointDir}`
  }
}

function toEvent(record: StoredRecord): FlowEvent {
  const headers: Record<string, string> = {}
  for (const header of record.headers) headers[header.key] = header.value?.toString('utf8') ?? ''
  // Copy: record values may be views of the shared tail window.
  return { headers, body: Buffer.from(record.value ?? Buffer.alloc(0)) }
}

class FileTransaction extends BasicTransaction {
  private readonly puts: FlowEvent[] = []
  private readonly takes: Stored[] = []

  constructor(private readonly channel: FileChannel) {
    super(channel.transactionCapacity, channel.counter, channel.name)
  }

  protected doPut(event: FlowEvent): void {
    this.puts.push(event)
  }

  protected async doTake(): Promise<FlowEvent | null> {
    const stored = await this.channel.takeOne()
    if (stored === null) return null
    this.takes.push(stored)
    return stored.event
  }

  protected async doCommit(): Promise<void> {
    if (this.puts.length > 0) await this.channel.commitPuts(this.puts)
    if (this.takes.length > 0) await this.channel.commitTakes(this.takes)
  }

  protected async doRollback(): Promise<void> {
    this.channel.rollbackTakes(this.takes)
    this.takes.length = 0
    this.puts.length = 0
  }
}
