/**
 * One bucket (a resolved directory and file prefix) and the file it has open, as Flume's
 * BucketWriter: files are named `<inUsePrefix><prefix>.<counter><suffix><inUseSuffix>` while
 * open and renamed to `<prefix>.<counter><suffix>` when closed, where the counter starts at the
 * clock's milliseconds when the bucket is first used and goes up by one per file, and the suffix
 * is hdfs.fileSuffix, or the codec's extension when that is empty.
 *
 * A file is opened by the first event for the bucket, and rolled before an append once it holds
 * rollCount events or rollSize body bytes (so no roll leaves an empty file); the sink closes it
 * when rollInterval has passed since it opened or idleTimeout since its last flush.
 *
 * Durability: append() only collects the batch in memory; flush() writes it with one vectored
 * write, fdatasyncs the file and, the first time, the directories its name lives in. The sink
 * commits its take only after every bucket of the batch has flushed (and the journal synced), so
 * a crash loses no committed event. A batch that fails is dropped from memory; a write or sync
 * that fails cuts the file back to its last flushed length and closes it, so a failed batch
 * never leaves half its bytes behind. Every file call is timed against hdfs.callTimeout:
 * sluice's file calls are synchronous and cannot be abandoned, but one that returns late fails
 * its batch as Flume's timed-out call does.
 */
import * as path from 'node:path'
import { SluiceError } from '../../../errors.js'
import type { FileHandle, FileSystem } from '../../../io/file-system.js'
import type { FlowEvent, FlowLogger } from '../../event.js'
import type { SinkCounter } from '../../metrics/counters.js'
import { formatId, newFormatWriter, type FormatSpec, type FormatWriter } from './file-format.js'
import type { OpenFileEntry, OpenFilesJournal } from './open-files-journal.js'

export interface RollPolicy {
  rollIntervalMs: number
  rollSizeBytes: number
  rollCount: number
  idleTimeoutMs: number
  callTimeoutMs: number
}

export interface NamePolicy {
  /** hdfs.fileSuffix, or the codec's extension when that is empty. */
  suffix: string
  inUsePrefix: string
  inUseSuffix: string
}

export interface BucketContext {
  fs: FileSystem
  spec: FormatSpec
  roll: RollPolicy
  names: NamePolicy
  journal: OpenFilesJournal
  counter: SinkCounter
  logger: FlowLogger
  nowMs: () => number
  /** A file whose close did not finish: the sink retries it (hdfs.retryInterval). */
  closeFailed(entry: OpenFileEntry, error: unknown): void
}

interface OpenFile {
  entry: OpenFileEntry
  handle: FileHandle
  writer: FormatWriter
  writtenBytes: number
  /** Bytes up to the end of the last flushed batch (the header before the first). */
  flushedBytes: number
  /** Directories whose entries must be synced before the file's first commit. */
  unsyncedDirectories: string[]
  openedAtMs: number
  events: number
  bodyBytes: number
  flushed: { events: number; bodyBytes: number }
}

function fileError(operation: string, filePath: string, error: unknown): SluiceError {
  return new SluiceError('SLUICE_ERR_EVENT_DELIVERY',
    `cannot ${operation} ${filePath}: ${(error as Error).message}`, { cause: error })
}

export class BucketWriter {
  /** Flume's fileExtensionCounter: the clock at the bucket's first use, +1 per file. */
  private fileCounter: number
  private file: OpenFile | null = null
  private lastFlushMs: number

  constructor(readonly directory: string, readonly fileName: string,
    private readonly context: BucketContext) {
    this.fileCounter = context.nowMs()
    this.lastFlushMs = context.nowMs()
  }

  get isOpen(): boolean {
    return this.file !== null
  }

  /** The file being written, for tests and logs. */
  get inUsePath(): string | null {
    return this.file?.entry.inUse ?? null
  }

  append(event: FlowEvent): void {
    if (this.file !== null && this.shouldRoll(this.file)) this.close()
    const file = this.file ?? this.open()
    file.writer.append(event)
    file.events++
    file.bodyBytes += event.body.length
  }

  /** Writes and syncs what append() collected since the last flush. */
  flush(): void {
    const file = this.file
    if (file === null || file.events === file.flushed.events) return
    const buffers = file.writer.takeBatch()
    this.timed('flush', file.entry.inUse, () => {
      file.writtenBytes += this.context.fs.writev(file.handle, buffers, file.writtenBytes)
      this.context.fs.fdatasync(file.handle)
      for (const directory of file.unsyncedDirectories) this.context.fs.syncDirectory(directory)
    }, file)
    file.unsyncedDirectories = []
    file.flushedBytes = file.writtenBytes
    file.flushed = { events: file.events, bodyBytes: file.bodyBytes }
    this.lastFlushMs = this.context.nowMs()
  }

  /** Forgets the events appended since the last flush (their batch rolled back). */
  dropBatch(): void {
    const file = this.file
    if (file === null) return
    file.writer.dropBatch()
    file.events = file.flushed.events
    file.bodyBytes = file.flushed.bodyBytes
  }

  /** Whether rollInterval or idleTimeout says the file should close now. */
  dueToClose(nowMs: number): boolean {
    const { rollIntervalMs, idleTimeoutMs } = this.context.roll
    if (this.file === null) return false
    if (rollIntervalMs > 0 && nowMs - this.file.openedAtMs >= rollIntervalMs) return true
    return idleTimeoutMs > 0 && nowMs - this.lastFlushMs >= idleTimeoutMs
  }

  /** Flushes, closes and renames the file; a failed rename is handed to the sink to retry. */
  close(): void {
    const file = this.file
    if (file === null) return
    this.flush()
    this.file = null
    const { fs, journal, counter } = this.context
    try {
      this.timed('close', file.entry.inUse, () => fs.close(file.handle), null)
      counter.add('ConnectionClosedCount')
    } catch (error) {
      counter.add('ConnectionFailedCount')
      this.context.logger.warn(`hdfs sink: ${(error as Error).message}`)
    }
    try {
      this.timed('rename', file.entry.inUse, () => this.finish(file), null)
      journal.recordClosed(file.entry.inUse)
    } catch (error) {
      counter.add('ConnectionFailedCount')
      this.context.closeFailed(file.entry, error)
    }
  }

  private finish(file: OpenFile): void {
    const { fs } = this.context
    if (file.flushed.events === 0) {
      fs.unlink(file.entry.inUse)
    } else if (file.entry.inUse !== file.entry.final) {
      fs.rename(file.entry.inUse, file.entry.final)
    }
    fs.syncDirectory(this.directory)
  }

  private shouldRoll(file: OpenFile): boolean {
    const { rollCount, rollSizeBytes } = this.context.roll
    return (rollCount > 0 && file.events >= rollCount) ||
      (rollSizeBytes > 0 && file.bodyBytes >= rollSizeBytes)
  }

  private nextEntry(): OpenFileEntry {
    const { fs, names, spec } = this.context
    for (;;) {
      this.fileCounter++
      const fullName = `${this.fileName}.${this.fileCounter}${names.suffix}`
      const inUse = path.join(this.directory, `${names.inUsePrefix}${fullName}${names.inUseSuffix}`)
      const final = path.join(this.directory, fullName)
      // Never reuse a name an earlier run (or a clock that went back) left behind.
      if (fs.stat(inUse) === null && fs.stat(final) === null) {
        return { inUse, final, format: formatId(spec) }
      }
    }
  }

  private open(): OpenFile {
    const { fs, journal, counter, spec } = this.context
    const unsyncedDirectories = this.makeDirectories()
    const entry = this.nextEntry()
    journal.recordOpen(entry)
    const startedMs = this.context.nowMs()
    let handle: FileHandle
    try {
      handle = fs.open(entry.inUse, 'create')
    } catch (error) {
      counter.add('ConnectionFailedCount')
      journal.recordClosed(entry.inUse)
      throw fileError('create', entry.inUse, error)
    }
    const writer = newFormatWriter(spec, this.context.nowMs)
    const file: OpenFile = { entry, handle, writer, writtenBytes: 0, flushedBytes: 0,
      unsyncedDirectories,
      openedAtMs: this.context.nowMs(), events: 0, bodyBytes: 0,
      flushed: { events: 0, bodyBytes: 0 } }
    this.file = file
    this.checkDeadline('create', entry.inUse, startedMs, file)
    const header = writer.header()
    if (header.length > 0) {
      this.timed('write the header of', entry.inUse, () => {
        file.writtenBytes = fs.writev(handle, [header], 0)
      }, file)
      file.flushedBytes = file.writtenBytes
    }
    counter.add('ConnectionCreatedCount')
    return file
  }

  /** mkdir -p, returning the directories whose entries a new file there depends on. */
  private makeDirectories(): string[] {
    const { fs } = this.context
    const unsynced = [this.directory]
    let existing = this.directory
    while (fs.stat(existing) === null && path.dirname(existing) !== existing) {
      existing = path.dirname(existing)
      unsynced.push(existing)
    }
    try {
      fs.mkdirp(this.directory)
    } catch (error) {
      this.context.counter.add('ConnectionFailedCount')
      throw fileError('create the directory', this.directory, error)
    }
    return unsynced
  }

  /**
   * Runs one file call, checked against hdfs.callTimeout. When it fails (or returns late) with
   * a file open, the file is cut back to its last flush and closed before the error goes up.
   */
  private timed<T>(operation: string, filePath: string, call: () => T, file: OpenFile | null): T {
    const startedMs = this.context.nowMs()
    let result: T
    try {
      result = call()
    } catch (error) {
      if (file !== null) this.abandon(file)
      throw fileError(operation, filePath, error)
    }
    this.checkDeadline(operation, filePath, startedMs, file)
    return result
  }

  private checkDeadline(operation: string, filePath: string, startedMs: number,
    file: OpenFile | null): void {
    const tookMs = this.context.nowMs() - startedMs
    const limitMs = this.context.roll.callTimeoutMs
    if (limitMs <= 0 || tookMs <= limitMs) return
    if (file !== null) this.abandon(file)
    this.context.counter.add('ConnectionFailedCount')
    throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `${operation} ${filePath} took ` +
      `${tookMs} ms, over hdfs.callTimeout ${limitMs} ms; the batch is rolled back`)
  }

  /** After a failed write: cut the file to what was flushed and close it (or leave it to the
   *  sink's retries, and to recovery, if even that fails). */
  private abandon(file: OpenFile): void {
    const { fs, journal } = this.context
    this.file = null
    this.context.counter.add('ConnectionFailedCount')
    try {
      fs.truncate(file.handle, file.flushed.events === 0 ? 0 : file.flushedBytes)
      fs.fdatasync(file.handle)
      fs.close(file.handle)
      this.finish(file)
      journal.recordClosed(file.entry.inUse)
    } catch (error) {
      try {
        fs.close(file.handle)
      } catch {
        // Already failing; the retry (or the next start) repairs the file from its bytes.
      }
      this.context.closeFailed(file.entry, error)
    }
  }
}
