/**
 * Flume's HDFS sink (HDFSEventSink, reference §2.3) writing to a local or mounted directory.
 * Each batch: take up to hdfs.batchSize events; resolve every event's bucket (hdfs.path and
 * hdfs.filePrefix escaped) before writing any, so an event that cannot be bucketed (no
 * timestamp header) fails the batch with nothing written; append each to its bucket's file;
 * flush and fdatasync every bucket the batch touched, and the open-files journal; only then
 * commit the take. Any failure rolls the take back (BatchSink), and buckets forget the batch.
 *
 * Open buckets are kept in least-recently-used order; past hdfs.maxOpenFiles the eldest is
 * closed. A housekeeping tick (every second, and before each batch) closes files whose
 * rollInterval or idleTimeout has passed — the bucket is then forgotten, and its next event
 * starts a new one with a fresh counter, as Flume's timed close does — and retries closes that
 * failed, every hdfs.retryInterval seconds up to hdfs.closeTries attempts (0: until it works).
 * Batches, ticks and stop() run one at a time (exclusive()), so a timed close never lands in
 * the middle of a batch.
 *
 * Start-up recovery: every file the journal lists as open is closed by finalizeInUseFile (its
 * torn tail cut, then renamed). If recovery cannot run (the journal's directory is unreadable),
 * the error is logged and every batch tries it again first, failing until it works, so nothing
 * is written beside files that were never closed.
 */
import * as dns from 'node:dns/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import { SluiceError } from '../../../errors.js'
import type { FileSystem } from '../../../io/file-system.js'
import { NodeFileSystem } from '../../../io/node-file-system.js'
import type { FlowEvent, FlowLogger } from '../../event.js'
import type { Channel } from '../../transaction.js'
import { BatchSink, type Status } from '../sink.js'
import {
  escapeTemplate, type BucketTemplate, type EscapeOptions, type HostNames,
} from './bucket-path.js'
import { BucketWriter, type BucketContext, type NamePolicy, type RollPolicy } from
  './bucket-writer.js'
import type { FormatSpec } from './file-format.js'
import { finalizeInUseFile } from './in-use-recovery.js'
import { OpenFilesJournal, type OpenFileEntry } from './open-files-journal.js'

export interface HdfsSinkOptions {
  pathTemplate: BucketTemplate
  prefixTemplate: BucketTemplate
  /** The directory every bucket must stay inside: hdfs.path up to its first escape. */
  rootDirectory: string
  journalPath: string
  spec: FormatSpec
  names: NamePolicy
  roll: RollPolicy
  escape: EscapeOptions
  batchSize: number
  maxOpenFiles: number
  retryIntervalMs: number
  /** Attempts at closing a file before it is left to the next start; 0 = no limit. */
  closeTries: number
  logger: FlowLogger
  nowMs?: () => number
  fs?: FileSystem
  /** How often the housekeeping tick runs; 0 turns it off (tests call housekeeping()). */
  housekeepingIntervalMs?: number
  hosts?: HostNames
}

interface PendingClose {
  entry: OpenFileEntry
  attempts: number
  nextAttemptMs: number
}

const HOUSEKEEPING_INTERVAL_MS = 1000

export class HdfsSink extends BatchSink {
  readonly type = 'hdfs'
  private readonly fs: FileSystem
  private readonly nowMs: () => number
  private readonly journal: OpenFilesJournal
  private readonly buckets = new Map<string, BucketWriter>()
  /** The key set last in `buckets`; while it is there, it is the last entry. */
  private mostRecentKey: string | null = null
  private readonly pendingCloses = new Map<string, PendingClose>()
  private readonly context: BucketContext
  private hosts: HostNames
  private recovered = false
  private queue: Promise<unknown> = Promise.resolve()
  private tick: NodeJS.Timeout | null = null
  /** A tick waits for the batch in progress; later ticks are skipped rather than queued. */
  private tickQueued = false

  constructor(name: string, channel: Channel, private readonly options: HdfsSinkOptions) {
    super(name, channel, options.batchSize)
    this.fs = options.fs ?? new NodeFileSystem()
    this.nowMs = options.nowMs ?? Date.now
    this.journal = new OpenFilesJournal(this.fs, options.journalPath)
    const hostname = os.hostname()
    this.hosts = options.hosts ?? { localhost: hostname, ip: '127.0.0.1', fqdn: hostname }
    this.context = { fs: this.fs, spec: options.spec, roll: options.roll, names: options.names,
      journal: this.journal, counter: this.counter, logger: options.logger, nowMs: this.nowMs,
      closeFailed: (entry, error) => this.closeFailed(entry, error) }
  }

  /** Files open now, for tests and logs. */
  openFiles(): string[] {
    return [...this.buckets.values()].flatMap((bucket) => bucket.inUsePath ?? [])
  }

  override async start(): Promise<void> {
    await super.start()
    const { pathTemplate, prefixTemplate } = this.options
    if (this.options.hosts === undefined && (pathTemplate.usesHost || prefixTemplate.usesHost)) {
      this.hosts = await resolveHostNames()
    }
    await this.exclusive(() => {
      try {
        this.recover()
      } catch (error) {
        this.options.logger.error(`hdfs sink ${this.name}: ${(error as Error).message}; ` +
          'retrying before each batch')
      }
    })
    const intervalMs = this.options.housekeepingIntervalMs ?? HOUSEKEEPING_INTERVAL_MS
    if (intervalMs > 0) {
      this.tick = setInterval(() => {
        if (this.tickQueued) return
        this.tickQueued = true
        void this.exclusive(() => {
          this.tickQueued = false
          this.housekeeping()
        }).catch((error: unknown) =>
          this.options.logger.error(`hdfs sink ${this.name}: ${(error as Error).message}`))
      }, intervalMs)
      this.tick.unref()
    }
  }

  override async stop(): Promise<void> {
    if (this.tick !== null) clearInterval(this.tick)
    this.tick = null
    await this.exclusive(() => {
      for (const bucket of this.buckets.values()) this.closeQuietly(bucket)
      this.buckets.clear()
      this.retryCloses(Number.POSITIVE_INFINITY)
      this.journal.close()
      this.recovered = false
    })
    await super.stop()
  }

  override process(): Promise<Status> {
    return this.exclusive(() => super.process())
  }

  /** Closes files whose rollInterval or idleTimeout has passed, and retries failed closes. */
  housekeeping(): void {
    const nowMs = this.nowMs()
    for (const [key, bucket] of this.buckets) {
      if (!bucket.dueToClose(nowMs)) continue
      this.closeQuietly(bucket)
      this.buckets.delete(key)
    }
    this.retryCloses(nowMs)
  }

  protected async deliver(events: FlowEvent[]): Promise<void> {
    if (!this.recovered) this.recover()
    this.housekeeping()
    const targets = events.map((event) => this.bucketOf(event))
    const touched = new Set<BucketWriter>()
    try {
      events.forEach((event, index) => {
        const bucket = this.bucketFor(targets[index]!)
        touched.add(bucket)
        bucket.append(event)
      })
      for (const bucket of touched) bucket.flush()
      this.journal.sync()
    } catch (error) {
      for (const bucket of touched) bucket.dropBatch()
      throw error
    }
  }

  private exclusive<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(work)
    this.queue = run.catch(() => undefined)
    return run
  }

  private recover(): void {
    const entries = this.journal.load()
    const stillOpen: OpenFileEntry[] = []
    for (const entry of entries) {
      try {
        const outcome = finalizeInUseFile(this.fs, entry, this.options.logger)
        if (outcome !== 'absent') {
          this.options.logger.info(`hdfs sink ${this.name}: closed ${entry.inUse} left open ` +
            `by the last run (${outcome})`)
        }
      } catch (error) {
        this.options.logger.error(`hdfs sink ${this.name}: ${(error as Error).message}`)
        stillOpen.push(entry)
      }
    }
    this.journal.reset(stillOpen)
    this.recovered = true
  }

  private bucketOf(event: FlowEvent): { directory: string; fileName: string } {
    const { pathTemplate, prefixTemplate, escape, rootDirectory } = this.options
    let directory = path.resolve(escapeTemplate(pathTemplate, event.headers, escape, this.hosts))
    let fileName = escapeTemplate(prefixTemplate, event.headers, escape, this.hosts)
    if (fileName.includes(path.sep)) {
      // A prefix with a slash (from a header, say) names a subdirectory, as it would in Flume.
      const slash = fileName.lastIndexOf(path.sep)
      directory = path.resolve(directory, fileName.slice(0, slash))
      fileName = fileName.slice(slash + 1)
    }
    const within = rootDirectory.endsWith(path.sep) ? rootDirectory : `${rootDirectory}${path.sep}`
    if (directory !== rootDirectory && !directory.startsWith(within)) {
      throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `the event's headers resolve ` +
        `hdfs.path/hdfs.filePrefix to ${path.join(directory, fileName)}, outside ` +
        `${rootDirectory}; refused`)
    }
    return { directory, fileName }
  }

  /** The bucket's writer, most recently used last; past maxOpenFiles the eldest closes. */
  private bucketFor(target: { directory: string; fileName: string }): BucketWriter {
    const key = path.join(target.directory, target.fileName)
    let bucket = this.buckets.get(key)
    if (bucket !== undefined) {
      // Most events go where the one before went: that bucket is already last.
      if (key !== this.mostRecentKey) {
        this.buckets.delete(key)
        this.buckets.set(key, bucket)
        this.mostRecentKey = key
      }
      return bucket
    }
    bucket = new BucketWriter(target.directory, target.fileName, this.context)
    this.buckets.set(key, bucket)
    this.mostRecentKey = key
    if (this.buckets.size > this.options.maxOpenFiles) {
      const [eldestKey, eldest] = this.buckets.entries().next().value!
      this.buckets.delete(eldestKey)
      eldest.close()
    }
    return bucket
  }

  private closeQuietly(bucket: BucketWriter): void {
    try {
      bucket.close()
    } catch (error) {
      this.options.logger.error(`hdfs sink ${this.name}: ${(error as Error).message}`)
    }
  }

  private closeFailed(entry: OpenFileEntry, error: unknown): void {
    const { retryIntervalMs, closeTries, logger } = this.options
    // closeTries counts the attempt that just failed, as Flume's does.
    const retries = retryIntervalMs > 0 && closeTries !== 1
    logger.warn(`hdfs sink ${this.name}: ${(error as Error).message}; ` + (retries
      ? `will retry closing ${entry.inUse} in ${retryIntervalMs / 1000} s`
      : `${entry.inUse} is left for the next start to close`))
    if (!retries) return
    this.pendingCloses.set(entry.inUse, { entry, attempts: 1,
      nextAttemptMs: this.nowMs() + retryIntervalMs })
  }

  private retryCloses(nowMs: number): void {
    const { closeTries, retryIntervalMs, logger } = this.options
    for (const [inUse, pending] of this.pendingCloses) {
      if (pending.nextAttemptMs > nowMs) continue
      try {
        finalizeInUseFile(this.fs, pending.entry, logger)
        this.journal.recordClosed(inUse)
        this.pendingCloses.delete(inUse)
      } catch (error) {
        pending.attempts++
        pending.nextAttemptMs = this.nowMs() + retryIntervalMs
        if (closeTries > 0 && pending.attempts >= closeTries) {
          logger.warn(`hdfs sink ${this.name}: gave up closing ${inUse} after ` +
            `${pending.attempts} attempts (${(error as Error).message}); the next start closes it`)
          this.pendingCloses.delete(inUse)
        }
      }
    }
  }
}

/** Java's InetAddress.getLocalHost(): name, address, canonical name; falls back to the name. */
async function resolveHostNames(): Promise<HostNames> {
  const localhost = os.hostname()
  try {
    const { address } = await dns.lookup(localhost)
    const fqdn = await dns.lookupService(address, 0).then((found) => found.hostname,
      () => localhost)
    return { localhost, ip: address, fqdn }
  } catch {
    return { localhost, ip: '127.0.0.1', fqdn: localhost }
  }
}
