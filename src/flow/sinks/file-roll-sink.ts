/**
 * Flume's file_roll sink (RollingFileSink, reference §2.3): writes each event's body plus a
 * newline (the TEXT serializer) to `<sink.directory>/<prefix><agentStartMs>-<n>[.<extension>]`,
 * and starts the next file once `sink.rollInterval` seconds have passed (0 = never roll).
 *
 * File I/O goes through src/io's FileSystem (one vectored write per batch at the file's end), so
 * the batch is in the page cache before the channel's take commits: a process crash after the
 * write and before the commit redelivers the batch (a duplicate), never loses it. As in Flume
 * there is no fsync (a power cut can lose the tail). A roll happens when the next batch arrives
 * rather than on an idle timer, so idle periods do not leave empty files; the clock is
 * injectable so tests can drive the roll.
 */
import * as path from 'node:path'
import { NodeFileSystem } from '../../io/node-file-system.js'
import type { FileHandle, FileSystem } from '../../io/file-system.js'
import type { FlowEvent } from '../event.js'
import type { Channel } from '../transaction.js'
import { BatchSink } from './sink.js'

export interface FileRollOptions {
  directory: string
  rollIntervalSeconds: number
  batchSize: number
  appendNewline: boolean
  prefix: string
  extension: string
  nowMs?: () => number
  fs?: FileSystem
}

const NEWLINE = Buffer.from('\n')

export class FileRollSink extends BatchSink {
  readonly type = 'file_roll'
  private readonly fs: FileSystem
  private readonly nowMs: () => number
  private readonly startedMs: number
  /** Flume's DefaultPathManager counts files from 1: `<prefix><start ms>-1`, `-2`, … */
  private fileIndex = 1
  private handle: FileHandle | null = null
  private positionBytes = 0
  private openedAtMs = 0

  constructor(name: string, channel: Channel, private readonly options: FileRollOptions) {
    super(name, channel, options.batchSize)
    this.fs = options.fs ?? new NodeFileSystem()
    this.nowMs = options.nowMs ?? Date.now
    this.startedMs = this.nowMs()
  }

  /** The file being written, for tests and logs. */
  currentPath(): string {
    const extension = this.options.extension === '' ? '' : `.${this.options.extension}`
    return path.join(this.options.directory,
      `${this.options.prefix}${this.startedMs}-${this.fileIndex}${extension}`)
  }

  override async stop(): Promise<void> {
    this.closeFile()
    await super.stop()
  }

  protected async deliver(events: FlowEvent[]): Promise<void> {
    this.rollIfDue()
    if (this.handle === null) this.openFile()
    const buffers: Buffer[] = []
    for (const event of events) {
      buffers.push(event.body)
      if (this.options.appendNewline) buffers.push(NEWLINE)
    }
    this.positionBytes += this.fs.writev(this.handle!, buffers, this.positionBytes)
  }

  private rollIfDue(): void {
    const intervalMs = this.options.rollIntervalSeconds * 1000
    if (this.handle === null || intervalMs <= 0) return
    if (this.nowMs() - this.openedAtMs < intervalMs) return
    this.closeFile()
    this.fileIndex++
  }

  private openFile(): void {
    // Here rather than at start: a directory that cannot be made fails delivery (so a failover
    // group moves on and the runner backs off), not the whole agent.
    this.fs.mkdirp(this.options.directory)
    // Never append to a file left by an earlier run with the same start time and index.
    while (this.fs.stat(this.currentPath()) !== null) this.fileIndex++
    this.handle = this.fs.open(this.currentPath(), 'create')
    this.positionBytes = 0
    this.openedAtMs = this.nowMs()
    this.counter.add('ConnectionCreatedCount')
  }

  private closeFile(): void {
    if (this.handle === null) return
    this.fs.close(this.handle)
    this.handle = null
    this.counter.add('ConnectionClosedCount')
  }
}
