/**
 * Watches a configuration file by polling, as Flume's PollingPropertiesFileConfigurationProvider
 * does (every 30 s by default). fs.watch is not used: editors that save by writing a new file
 * and renaming it over the old one leave a watch on the old inode, and network file systems
 * deliver no events at all.
 *
 * Each tick stats the file; only when its mtime or size moved (or its mtime is too recent to
 * trust) is it read, and only when the content's hash differs from the last content seen is
 * `onChange` called. So touching a file, or saving it unchanged, does nothing, and a file that
 * is refused is not retried until it changes again. Ticks never overlap: the next is scheduled
 * after `onChange` settles. A file that cannot be read is reported once per disappearance; the
 * agent keeps its configuration.
 */
import { createHash } from 'node:crypto'
import type { FileSystem } from '../../io/file-system.js'
import type { FlowLogger } from '../event.js'

export const FLUME_POLL_INTERVAL_MS = 30_000
/**
 * File times are coarse on many systems (a kernel tick on Linux, 1 s or 2 s on ext3, HFS+ and
 * FAT), so two writes of one size can share an mtime: a file modified this recently is read and
 * hashed on every poll, whatever its stat says.
 */
const MTIME_GRANULARITY_MS = 2000

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export class ConfigWatcher {
  private timer: NodeJS.Timeout | null = null
  private tick: Promise<void> | null = null
  private lastStat = ''
  private lastHash: string
  private missingReported = false
  /** Completed polls, for tests that need to know the watcher has looked. */
  polls = 0

  constructor(private readonly file: string, private readonly intervalMs: number,
    private readonly fs: FileSystem, private readonly logger: FlowLogger,
    private readonly onChange: (text: string) => Promise<void>, baselineText: string) {
    this.lastHash = contentHash(baselineText)
  }

  start(): void {
    if (this.timer !== null) return
    this.logger.info(`watching ${this.file} for changes every ${this.intervalMs / 1000} s`)
    this.schedule()
  }

  /** Stops polling; waits for a change being applied to finish. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    await this.tick
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.tick = this.poll().catch((error: unknown) => {
        this.logger.error(`reload: polling ${this.file} failed: ${(error as Error).message}`)
      }).finally(() => {
        this.tick = null
        this.polls++
        if (this.timer !== null) this.schedule()
      })
    }, this.intervalMs)
    // Polling alone must not keep a process alive whose agent has nothing else to do.
    this.timer.unref()
  }

  private async poll(): Promise<void> {
    const stat = this.fs.stat(this.file)
    const statKey = stat === null ? '' : `${stat.mtimeMs}:${stat.size}`
    const settled = stat !== null && Date.now() - stat.mtimeMs > MTIME_GRANULARITY_MS
    if (statKey !== '' && statKey === this.lastStat && settled) return
    const text = stat === null ? null : this.fs.readFile(this.file)?.toString('utf8') ?? null
    if (text === null) {
      if (!this.missingReported) {
        this.logger.warn(`reload: cannot read ${this.file}; the agent keeps its configuration`)
      }
      this.missingReported = true
      this.lastStat = ''
      return
    }
    this.missingReported = false
    this.lastStat = statKey
    const hash = contentHash(text)
    if (hash === this.lastHash) return
    this.lastHash = hash
    await this.onChange(text)
  }
}
