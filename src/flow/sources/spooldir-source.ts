/**
 * Flume's spooling directory source (SpoolDirectorySource, ReliableSpoolingFileEventReader;
 * reference §2.1): reads each file put into spoolDir, line by line (spool-reader.ts), in batches
 * of batchSize, and completes it once every line is committed to the channel: renamed to
 * `<name><fileSuffix>`, deleted (deletePolicy = immediate), or marked by an empty
 * `<trackerDir>/<name><fileSuffix>` (trackingPolicy = tracker_dir).
 *
 * Flume's spooling assumptions, checked as Flume checks them, each a fatal error that names the
 * file and stops the source until it is restarted (Flume's "FATAL: … Restart or reconfigure"):
 *   - a file is complete and immutable once in spoolDir: its size and mtime are recorded when
 *     it is opened and checked before it is completed ("File has been modified since being
 *     read", "File has changed size since being read");
 *   - names are never reused: a completed name that already exists is "File name has been
 *     re-used with different files. Spooling assumptions violated for <name>".
 *
 * Durability: a batch is committed to the channel before its mark is stored, and the mark is
 * stored (atomically, with fsync) before the next batch is read, in `<trackerDir>/<META_FILE>`
 * as {file, offset, skip, size, mtimeMs}. A file is completed only after its last batch
 * committed. Restart cases:
 *   no mark file                     files are taken in consumeOrder, each from its start
 *   mark names a file still there,   it is taken first and read on from the mark: only the
 *     same size and mtime            batch in flight at the crash is delivered again
 *   mark names a file still there,   the file changed while it was being read: fatal error
 *     size or mtime changed          naming it
 *   mark names a file now gone       completed before the crash (renamed or deleted): ignored
 * A refused batch (channel full) is read again from the last mark after a backoff that doubles
 * from 250 ms up to maxBackoff.
 */
import * as path from 'node:path'
import { SluiceError } from '../../errors.js'
import type { FileSystem } from '../../io/file-system.js'
import { NodeFileSystem } from '../../io/node-file-system.js'
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowLogger } from '../event.js'
import { sourceCounter } from '../metrics/counters.js'
import { Signal, sleepUnless } from '../signal.js'
import type { EventDrivenSource } from './source.js'
import { deliverBatch } from './batch-delivery.js'
import { SpoolFileReader, type SpoolMark, type SpoolReaderOptions } from './spool-reader.js'

/** sluice's mark file; Flume's `.flumespool-main.meta` is Avro, so the name differs. */
export const META_FILE = '.sluice-spool-main.json'
const FIRST_BACKOFF_MS = 250

export type ConsumeOrder = 'oldest' | 'youngest' | 'random'

export interface SpoolDirOptions extends SpoolReaderOptions {
  spoolDir: string
  fileSuffix: string
  deletePolicy: 'never' | 'immediate'
  trackingPolicy: 'rename' | 'tracker_dir'
  /** Absolute (a relative trackerDir is resolved against spoolDir by the builder). */
  trackerDir: string
  includePattern: RegExp
  ignorePattern: RegExp
  consumeOrder: ConsumeOrder
  pollDelayMs: number
  recursiveDirectorySearch: boolean
  maxBackoffMs: number
  batchSize: number
  fileHeaderKey: string | null
  basenameHeaderKey: string | null
  fs?: FileSystem
}

interface StoredMark extends SpoolMark {
  file: string
  size: number
  mtimeMs: number
}

interface Current {
  file: string
  reader: SpoolFileReader
  committed: SpoolMark
  size: number
  mtimeMs: number
}

export class SpoolDirectorySource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'spooldir'
  readonly counter
  /** The error that stopped the source, if one did (the log says the same). */
  fatalError: Error | null = null
  private readonly fs: FileSystem
  private readonly stopSignal = new Signal()
  private stopping = false
  private loop: Promise<void> | null = null
  private current: Current | null = null
  private storedMark: StoredMark | null = null

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: SpoolDirOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
    this.fs = options.fs ?? new NodeFileSystem()
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  private get metaFile(): string {
    return path.join(this.options.trackerDir, META_FILE)
  }

  async start(): Promise<void> {
    const { spoolDir, trackerDir } = this.options
    const stat = this.fs.stat(spoolDir)
    if (stat === null || !stat.isDirectory) {
      throw new SluiceError('SLUICE_ERR_FLOW_CONFIG', `source ${this.name}: ` +
        `${stat === null ? 'Directory does not exist' : 'Path is not a directory'}: ${spoolDir}`)
    }
    this.fs.mkdirp(trackerDir)
    this.storedMark = this.readMark()
    this.stopping = false
    this.fatalError = null
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.stopSignal.notify()
    await this.loop
    this.loop = null
    this.current?.reader.close()
    this.current = null
  }

  private async run(): Promise<void> {
    let backoffMs = FIRST_BACKOFF_MS
    while (!this.stopping) {
      let outcome: 'ready' | 'idle' | 'refused'
      try {
        outcome = await this.step()
      } catch (error) {
        this.fatalError = error as Error
        this.counter.add('GenericProcessingFail')
        this.logger.error(`source ${this.name}: FATAL: ${(error as Error).message}. Restart ` +
          'or reconfigure the agent to continue processing.')
        return
      }
      if (outcome === 'ready') backoffMs = FIRST_BACKOFF_MS
      if (outcome === 'idle') await sleepUnless(this.options.pollDelayMs, this.stopSignal)
      if (outcome === 'refused') {
        await sleepUnless(backoffMs, this.stopSignal)
        backoffMs = Math.min(backoffMs * 2, this.options.maxBackoffMs)
      }
    }
  }

  /** One batch of the current file, or the file's completion, or the next file's opening. */
  private async step(): Promise<'ready' | 'idle' | 'refused'> {
    if (this.current === null) this.current = this.openNext()
    const current = this.current
    if (current === null) return 'idle'
    const { bodies, mark } = current.reader.read(this.options.batchSize)
    if (mark === null) {
      this.complete(current)
      this.current = null
      return 'ready'
    }
    const headers: Record<string, string> = {}
    if (this.options.fileHeaderKey !== null) headers[this.options.fileHeaderKey] = current.file
    if (this.options.basenameHeaderKey !== null) {
      headers[this.options.basenameHeaderKey] = path.basename(current.file)
    }
    const refusal = await deliverBatch(this, bodies.map((body) => ({ headers: { ...headers },
      body })))
    if (refusal !== null) {
      this.logger.warn(`source ${this.name}: The channel is full, and cannot write data now. ` +
        `The source will try again after a backoff (${refusal.message})`)
      current.reader.rewind(current.committed)
      return 'refused'
    }
    current.committed = mark
    this.writeMark({ file: current.file, ...mark, size: current.size, mtimeMs: current.mtimeMs })
    return 'ready'
  }

  private openNext(): Current | null {
    const candidates = this.candidates()
    if (candidates.length === 0) return null
    const stored = this.storedMark
    const resumed = stored === null ? undefined : candidates.find((c) => c.file === stored.file)
    const chosen = resumed ?? this.choose(candidates)
    let start: SpoolMark = { offset: 0, skip: 0 }
    if (resumed !== undefined && stored !== null) {
      if (resumed.mtimeMs !== stored.mtimeMs || resumed.size !== stored.size) {
        throw changedError(resumed.mtimeMs !== stored.mtimeMs, resumed.file)
      }
      start = { offset: stored.offset, skip: stored.skip }
      this.logger.info(`source ${this.name}: resuming ${resumed.file} at byte ${stored.offset}`)
    }
    this.storedMark = null
    const reader = new SpoolFileReader(this.fs, chosen.file, this.options, start)
    return { file: chosen.file, reader, committed: start, size: chosen.size,
      mtimeMs: chosen.mtimeMs }
  }

  private choose(candidates: Candidate[]): Candidate {
    if (this.options.consumeOrder === 'random') {
      return candidates[Math.floor(Math.random() * candidates.length)]!
    }
    const sign = this.options.consumeOrder === 'oldest' ? 1 : -1
    // Ties go to the lexicographically smaller name, in both orders (Flume's rule).
    return [...candidates].sort((a, b) => sign * (a.mtimeMs - b.mtimeMs) ||
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))[0]!
  }

  /** Files to read: not hidden, not completed, included and not ignored, not yet tracked. */
  private candidates(): Candidate[] {
    const found: Candidate[] = []
    const visit = (directory: string): void => {
      for (const name of this.fs.readdir(directory)) {
        if (name.startsWith('.')) continue
        const file = path.join(directory, name)
        const stat = this.fs.stat(file)
        if (stat === null) continue
        if (stat.isDirectory) {
          if (this.options.recursiveDirectorySearch && file !== this.options.trackerDir) {
            visit(file)
          }
          continue
        }
        if (name.endsWith(this.options.fileSuffix)) continue
        if (!this.options.includePattern.test(name) || this.options.ignorePattern.test(name)) {
          continue
        }
        if (this.tracksByMarker() && this.fs.stat(this.markerOf(file)) !== null) continue
        found.push({ file, size: stat.size, mtimeMs: stat.mtimeMs })
      }
    }
    visit(this.options.spoolDir)
    return found
  }

  private tracksByMarker(): boolean {
    return this.options.deletePolicy === 'never' && this.options.trackingPolicy === 'tracker_dir'
  }

  private markerOf(file: string): string {
    return path.join(this.options.trackerDir,
      path.relative(this.options.spoolDir, file) + this.options.fileSuffix)
  }

  /** Checks the spooling assumptions, then renames, deletes or marks the file. */
  private complete(current: Current): void {
    current.reader.close()
    const stat = this.fs.stat(current.file)
    if (stat === null) {
      throw new SluiceError('SLUICE_ERR_SOURCE_INPUT', `${current.file} was removed while ` +
        'being read; its events are delivered, but the spooling directory must not be ' +
        'changed by others')
    }
    if (stat.mtimeMs !== current.mtimeMs || stat.size !== current.size) {
      throw changedError(stat.mtimeMs !== current.mtimeMs, current.file)
    }
    if (this.options.deletePolicy === 'immediate') {
      this.logger.info(`source ${this.name}: Preparing to delete file ${current.file}`)
      this.fs.unlink(current.file)
    } else {
      const done = this.tracksByMarker() ? this.markerOf(current.file)
        : current.file + this.options.fileSuffix
      if (this.fs.stat(done) !== null) {
        throw new SluiceError('SLUICE_ERR_SOURCE_INPUT', 'File name has been re-used with ' +
          `different files. Spooling assumptions violated for ${done}`)
      }
      this.logger.info(`source ${this.name}: Preparing to move file ${current.file} to ${done}`)
      if (this.tracksByMarker()) {
        this.fs.mkdirp(path.dirname(done))
        this.fs.writeFileAtomic(done, new Uint8Array(0))
      } else {
        this.fs.rename(current.file, done)
        this.fs.syncDirectory(path.dirname(done))
      }
    }
    // The file is done: a mark left behind would name a file that no longer needs reading.
    this.fs.unlink(this.metaFile)
  }

  private readMark(): StoredMark | null {
    const bytes = this.fs.readFile(this.metaFile)
    if (bytes === null) return null
    const mark = decodeMark(bytes.toString('utf8'))
    if (mark === null) {
      throw new SluiceError('SLUICE_ERR_SOURCE_INPUT', `source ${this.name}: the mark file ` +
        `${this.metaFile} is not usable (expected {"file", "offset", "skip", "size", ` +
        '"mtimeMs"}); delete it to read the file in progress again from its start ' +
        '(duplicates)')
    }
    return mark
  }

  private writeMark(mark: StoredMark): void {
    this.fs.writeFileAtomic(this.metaFile, Buffer.from(JSON.stringify(mark), 'utf8'))
  }
}

interface Candidate {
  file: string
  size: number
  mtimeMs: number
}

function changedError(modified: boolean, file: string): SluiceError {
  return new SluiceError('SLUICE_ERR_SOURCE_INPUT', modified
    ? `File has been modified since being read: ${file}`
    : `File has changed size since being read: ${file}`)
}

function decodeMark(text: string): StoredMark | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (parsed === null || typeof parsed !== 'object') return null
  const { file, offset, skip, size, mtimeMs } = parsed as Record<string, unknown>
  const counts = [offset, skip, size].every((n) => Number.isSafeInteger(n) && (n as number) >= 0)
  if (typeof file !== 'string' || !counts || typeof mtimeMs !== 'number') return null
  return { file, offset: offset as number, skip: skip as number, size: size as number, mtimeMs }
}

