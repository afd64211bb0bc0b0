/**
 * Flume's TAILDIR source (TaildirSource, ReliableTaildirEventReader; reference §2.1): follows
 * every file whose name matches a file group's regex in the group's directory, one event per
 * line, and keeps each file's committed offset in a JSON position file (taildir-positions.ts).
 *
 * Each poll (a pollable loop with Flume's backoff: an idle or refused poll sleeps
 * min(n × backoffSleepIncrement, maxBackoffSleep)):
 *   1. scan the groups' directories (a directory's listing is reused while its mtime is
 *      unchanged, with cachePatternMatching) and match files to tracked ones by inode;
 *   2. read each open file from its committed offset, batchSize lines at a time and at most
 *      maxBatchCount batches before moving to the next file; a batch the channel refuses
 *      leaves the offset where it was (the lines are read again after the backoff);
 *   3. close files idle for idleTimeout ms.
 * The position file is written every writePosInterval ms and on stop, with committed offsets
 * only: after a crash at most the lines committed since the last write are delivered again.
 *
 * Matching a file to what is tracked (the recovery cases, one test each):
 *   new inode                    a new file: read from 0; from its end at the first scan with
 *                                skipToEnd; from the position file's pos when its entry has the
 *                                same inode and path (Flume's rule)
 *   tracked inode, same path     go on; a file now shorter than pos was truncated: from 0
 *   tracked inode, new path,     a rename (rotation): the open handle pins the inode, so it is
 *     file open                  the same file; keep reading it, under its new name
 *   tracked inode, new path,     the inode may have been freed and reused; unless the birth
 *     file closed                time proves it is the same file, read it from 0 (duplicates
 *                                rather than a skip)
 *   tracked file no longer       renamed out of the group's pattern, or deleted: read to its
 *     matched                    end through the open handle, then, once idle, its unfinished
 *                                last line too (nobody will finish it), and forget it
 * Flume differs in two rows on purpose: it re-reads a renamed file from 0 even when it is open,
 * and it emits any unfinished last line when a file goes idle (sluice waits for the `\n` while
 * the file still matches).
 *
 * maxLineLengthBytes (the `maxLineLength` key, sluice's: Flume has no limit) bounds what one
 * line may hold in memory: a longer line is cut into pieces of that many bytes, each an event
 * (tail-file.ts); each piece cut counts one EventReadFail, with a warning, once committed.
 */
import { statSync } from 'node:fs'
import * as path from 'node:path'
import { SluiceError } from '../../errors.js'
import type { FileSystem } from '../../io/file-system.js'
import { NodeFileSystem } from '../../io/node-file-system.js'
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { sourceCounter } from '../metrics/counters.js'
import type { Status } from '../sinks/sink.js'
import { deliverBatch } from './batch-delivery.js'
import { PollableSourceRunner, type EventDrivenSource, type PollableSource } from './source.js'
import { TailFile, type TailLine } from './tail-file.js'
import { readPositions, writePositions, type TailPosition } from './taildir-positions.js'

const READ_CHUNK_BYTES = 64 * 1024
const BYTE_OFFSET_HEADER = 'byteoffset'

export interface FileGroup {
  name: string
  directory: string
  /** Matched against the whole file name (Java's Matcher.matches). */
  pattern: RegExp
  headers: Record<string, string>
}

export interface TaildirOptions {
  fileGroups: FileGroup[]
  positionFile: string
  batchSize: number
  maxBatchCount: number
  skipToEnd: boolean
  byteOffsetHeader: boolean
  idleTimeoutMs: number
  writePosIntervalMs: number
  backoffSleepIncrementMs: number
  maxBackoffSleepMs: number
  cachePatternMatching: boolean
  fileHeader: boolean
  fileHeaderKey: string
  /** Longer lines are cut into pieces of this many bytes (sluice's key `maxLineLength`). */
  maxLineLengthBytes: number
  fs?: FileSystem
  nowMs?: () => number
}

interface Tracked {
  file: TailFile
  group: FileGroup
  /** Matched by some group in the latest scan. */
  matched: boolean
  mtimeMs: number
  /** 0 where the file system does not record it. */
  birthtimeMs: number
}

interface Found {
  file: string
  group: FileGroup
  inode: number
  size: number
  mtimeMs: number
  birthtimeMs: number
}

export class TaildirSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'TAILDIR'
  readonly counter
  private readonly fs: FileSystem
  private readonly nowMs: () => number
  private readonly tracked = new Map<number, Tracked>()
  private readonly listings = new Map<string, { mtimeMs: number; names: string[] }>()
  private readonly scratch = Buffer.allocUnsafe(READ_CHUNK_BYTES)
  private savedPositions = new Map<number, TailPosition>()
  private lastWritten = ''
  private runner: PollableSourceRunner | null = null
  private positionTimer: NodeJS.Timeout | null = null

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: TaildirOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
    this.fs = options.fs ?? new NodeFileSystem()
    this.nowMs = options.nowMs ?? Date.now
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  /** Committed offsets of the files followed, as the position file holds them. */
  positions(): TailPosition[] {
    return [...this.tracked.values()].map(({ file }) =>
      ({ inode: file.inode, pos: file.pos, file: file.path }))
  }

  async start(): Promise<void> {
    await this.open()
    const source = this
    const pollable: PollableSource = {
      kind: 'pollable', name: this.name, type: this.type, counter: this.counter,
      processor: this.processor, batchSize: this.batchSize,
      backoffSleepIncrementMs: this.options.backoffSleepIncrementMs,
      maxBackoffSleepMs: this.options.maxBackoffSleepMs, process: () => source.process(),
    }
    this.runner = new PollableSourceRunner(pollable, this.logger)
    await this.runner.start()
    this.positionTimer = setInterval(() => this.savePositions(), this.options.writePosIntervalMs)
    this.positionTimer.unref()
  }

  async stop(): Promise<void> {
    if (this.positionTimer !== null) clearInterval(this.positionTimer)
    this.positionTimer = null
    await this.runner?.stop()
    this.runner = null
    this.close()
  }

  /**
   * What start() does before polling: checks the directories, loads the position file, takes
   * the first scan. With process() and close(), lets tests drive the source step by step.
   */
  async open(): Promise<void> {
    for (const group of this.options.fileGroups) {
      if (this.fs.stat(group.directory)?.isDirectory !== true) {
        throw new SluiceError('SLUICE_ERR_FLOW_CONFIG', `source ${this.name}: file group ` +
          `${group.name}: Directory does not exist: ${group.directory}`)
      }
    }
    const saved = readPositions(this.fs, this.options.positionFile)
    this.savedPositions = new Map(saved.map((entry) => [entry.inode, entry]))
    this.scan(true)
  }

  /** Writes the last positions and closes every file. */
  close(): void {
    this.savePositions()
    for (const { file } of this.tracked.values()) file.close()
  }

  /** One poll (see the module comment). */
  async process(): Promise<Status> {
    this.scan(false)
    let status: Status = 'BACKOFF'
    const byAge = [...this.tracked.values()].filter((t) => t.file.isOpen)
      .sort((a, b) => a.mtimeMs - b.mtimeMs)
    for (const tracked of byAge) {
      const outcome = await this.tail(tracked, false)
      if (outcome === 'refused') return 'BACKOFF'
      if (outcome === 'more') status = 'READY'
    }
    await this.closeIdleFiles()
    return status
  }

  /** Writes the position file if an offset moved since the last write. */
  savePositions(): void {
    const positions = this.positions()
    const text = JSON.stringify(positions)
    if (positions.length === 0 || text === this.lastWritten) return
    try {
      writePositions(this.fs, this.options.positionFile, positions)
      this.lastWritten = text
    } catch (error) {
      this.counter.add('GenericProcessingFail')
      this.logger.error(`source ${this.name}: Failed writing positionFile ` +
        `${this.options.positionFile}: ${(error as Error).message}`)
    }
  }

  private scan(firstScan: boolean): void {
    for (const tracked of this.tracked.values()) tracked.matched = false
    for (const group of this.options.fileGroups) {
      for (const found of this.matchingFiles(group)) this.track(found, firstScan)
    }
    for (const [inode, tracked] of this.tracked) {
      if (!tracked.matched && !tracked.file.isOpen) this.tracked.delete(inode)
    }
  }

  private track(found: Found, firstScan: boolean): void {
    const now = this.nowMs()
    let tracked = this.tracked.get(found.inode)
    if (tracked !== undefined && tracked.file.path !== found.file) {
      const sameFile = tracked.file.isOpen ||
        (found.birthtimeMs !== 0 && found.birthtimeMs === tracked.birthtimeMs)
      if (sameFile) {
        this.logger.info(`source ${this.name}: ${tracked.file.path} was renamed to ` +
          `${found.file} (inode ${found.inode}); reading on from ${tracked.file.pos}`)
        tracked.file.path = found.file
      } else {
        tracked = undefined
      }
    }
    if (tracked === undefined) {
      const saved = this.savedPositions.get(found.inode)
      const pos = saved !== undefined && saved.file === found.file ? saved.pos
        : firstScan && this.options.skipToEnd ? found.size : 0
      tracked = { file: new TailFile(this.fs, found.file, found.inode, pos, now,
        this.options.maxLineLengthBytes),
        group: found.group, matched: true, mtimeMs: found.mtimeMs,
        birthtimeMs: found.birthtimeMs }
      this.tracked.set(found.inode, tracked)
      this.savedPositions.delete(found.inode)
    }
    tracked.matched = true
    tracked.group = found.group
    tracked.mtimeMs = found.mtimeMs
    tracked.birthtimeMs = found.birthtimeMs
    if (found.size < tracked.file.pos) {
      this.logger.info(`source ${this.name}: Pos ${tracked.file.pos} is larger than file ` +
        `size! Restarting from pos 0, file: ${found.file}, inode: ${found.inode}`)
      tracked.file.pos = 0
    }
    tracked.file.noticeSize(found.size)
    if (!tracked.file.isOpen && found.size > tracked.file.pos) this.openFile(tracked, found, now)
  }

  /** Opens the file and checks it is still the inode the scan saw (it may have rotated). */
  private openFile(tracked: Tracked, found: Found, now: number): void {
    try {
      tracked.file.open(now)
      if (inodeOf(found.file) !== found.inode) tracked.file.close()
    } catch (error) {
      tracked.file.close()
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // rotated away meanwhile
      // One unreadable file (EACCES, say) must not stop the others; it is tried again next poll.
      this.counter.add('EventReadFail')
      this.logger.error(`source ${this.name}: Failed opening file: ${found.file}: ` +
        `${(error as Error).message}`)
    }
  }

  private matchingFiles(group: FileGroup): Found[] {
    const found: Found[] = []
    for (const name of this.listing(group.directory)) {
      if (!group.pattern.test(name)) continue
      const file = path.join(group.directory, name)
      let stat
      try {
        stat = statSync(file)
      } catch {
        continue // removed since the listing
      }
      if (!stat.isFile()) continue
      found.push({ file, group, inode: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs,
        birthtimeMs: stat.birthtimeMs })
    }
    return found.sort((a, b) => a.mtimeMs - b.mtimeMs)
  }

  /** The directory's names; reused while its mtime is unchanged (cachePatternMatching). */
  private listing(directory: string): string[] {
    const mtimeMs = this.fs.stat(directory)?.mtimeMs ?? -1
    const cached = this.listings.get(directory)
    // A listing taken within a second of the mtime may miss a file created in that second on
    // a file system with coarse timestamps, so it is not trusted (Flume has the same guard).
    const trusted = cached !== undefined && cached.mtimeMs === mtimeMs &&
      this.nowMs() - mtimeMs > 1000
    if (this.options.cachePatternMatching && trusted) return cached.names
    const names = this.fs.readdir(directory)
    this.listings.set(directory, { mtimeMs, names })
    return names
  }

  /** Reads and commits batches of one file; see the module comment. */
  private async tail(tracked: Tracked, takeUnfinished: boolean)
    : Promise<'done' | 'more' | 'refused'> {
    for (let batches = 0; ; batches++) {
      if (batches >= this.options.maxBatchCount) return 'more'
      const { lines, endPos } = tracked.file.readLines(this.options.batchSize, this.scratch,
        takeUnfinished)
      if (lines.length === 0) return 'done'
      const refused = await deliverBatch(this, lines.map((line) => this.eventOf(tracked, line)))
      if (refused !== null) {
        this.logger.warn(`source ${this.name}: The channel is full or unexpected failure ` +
          `(${refused.message}); ${tracked.file.path} is read again from ${tracked.file.pos}`)
        return 'refused'
      }
      this.countCuts(tracked, lines)
      tracked.file.pos = endPos
      tracked.file.lastActivityMs = this.nowMs()
      if (lines.length < this.options.batchSize) return 'done'
    }
  }

  private countCuts(tracked: Tracked, lines: TailLine[]): void {
    const cut = lines.filter((line) => line.cut)
    if (cut.length === 0) return
    this.counter.add('EventReadFail', cut.length)
    this.logger.warn(`source ${this.name}: ${tracked.file.path}: ${cut.length} pieces of lines ` +
      `longer than maxLineLength = ${this.options.maxLineLengthBytes} bytes were cut at the ` +
      `limit (the first at byte ${cut[0]!.offset})`)
  }

  private eventOf(tracked: Tracked, line: TailLine): FlowEvent {
    const headers: Record<string, string> = { ...tracked.group.headers }
    if (this.options.byteOffsetHeader) headers[BYTE_OFFSET_HEADER] = String(line.offset)
    if (this.options.fileHeader) headers[this.options.fileHeaderKey] = tracked.file.path
    return { headers, body: line.body }
  }

  private async closeIdleFiles(): Promise<void> {
    const now = this.nowMs()
    for (const [inode, tracked] of this.tracked) {
      if (!tracked.file.isOpen || now - tracked.file.lastActivityMs <= this.options.idleTimeoutMs) {
        continue
      }
      if (!tracked.matched && await this.tail(tracked, true) !== 'done') continue
      tracked.file.close()
      this.logger.info(`source ${this.name}: Closed file: ${tracked.file.path}, inode: ` +
        `${inode}, pos: ${tracked.file.pos}`)
      if (!tracked.matched) this.tracked.delete(inode)
    }
  }
}

/**
 * The inode behind a path. Here and in matchingFiles this is node:fs's stat rather than src/io's,
 * because FileSystem's stat has no inode, and TAILDIR's whole identity model rests on it.
 */
function inodeOf(file: string): number {
  return statSync(file).ino
}

