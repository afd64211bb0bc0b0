/**
 * The hdfs sink's record of the files it has open, so a restart can close what a crash left in
 * use — including files in buckets the new run will never write to again (yesterday's
 * `%Y-%m-%d` directory), which a scan of the buckets it writes to would miss.
 *
 * One JSON object per line, appended:
 *
 *   {"op":"open","inUse":"/d/FlumeData.1700000000001.tmp","final":"/d/FlumeData.1700000000001",
 *    "format":"DataStream/text+newline"}
 *   {"op":"closed","inUse":"/d/FlumeData.1700000000001.tmp"}
 *
 * Ordering makes the record complete: the `open` line is appended before the file is created,
 * and fdatasync'd (sync()) before any batch written to that file commits its take; the `closed`
 * line is appended after the rename is durable and needs no sync (a lost one only makes a
 * restart find the in-use name gone and skip it). A torn last line is what a crash mid-append
 * leaves; it is ignored, since the file it would name was not yet created. Other lines that do
 * not parse are refused with the line number: they are not ours to guess about.
 *
 * The journal is rewritten (atomically) at start, holding only the files still open, and again
 * whenever it passes MAX_JOURNAL_LINES, so it stays small.
 */
import * as path from 'node:path'
import { SluiceError } from '../../../errors.js'
import type { FileHandle, FileSystem } from '../../../io/file-system.js'

export interface OpenFileEntry {
  inUse: string
  final: string
  format: string
}

type Line = { op: 'open'; inUse: string; final: string; format: string }
  | { op: 'closed'; inUse: string }

const MAX_JOURNAL_LINES = 10_000

function parseLine(text: string): Line | null {
  try {
    const line = JSON.parse(text) as Partial<Record<string, unknown>>
    if (line.op === 'closed' && typeof line.inUse === 'string') {
      return { op: 'closed', inUse: line.inUse }
    }
    if (line.op === 'open' && typeof line.inUse === 'string' && typeof line.final === 'string' &&
      typeof line.format === 'string') {
      return { op: 'open', inUse: line.inUse, final: line.final, format: line.format }
    }
    return null
  } catch {
    return null
  }
}

export class OpenFilesJournal {
  private handle: FileHandle | null = null
  private sizeBytes = 0
  private lines = 0
  private dirty = false
  private readonly open = new Map<string, OpenFileEntry>()

  constructor(private readonly fs: FileSystem, readonly path: string) {}

  /** The files the journal says are open (opened and not closed). */
  load(): OpenFileEntry[] {
    const bytes = this.fs.readFile(this.path)
    const entries = new Map<string, OpenFileEntry>()
    if (bytes === null) return []
    const text = bytes.toString('utf8')
    const complete = text.slice(0, text.lastIndexOf('\n') + 1)
    complete.split('\n').slice(0, -1).forEach((raw, index) => {
      const line = parseLine(raw)
      if (line === null) {
        throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `${this.path}:${index + 1}: not a ` +
          'line of the hdfs sink\'s open-files journal; fix or remove it (it lists in-use ' +
          'files to close at start)')
      }
      if (line.op === 'open') entries.set(line.inUse, line)
      else entries.delete(line.inUse)
    })
    return [...entries.values()]
  }

  /** Rewrites the journal durably to hold exactly `entries`, then opens it for appends. */
  reset(entries: OpenFileEntry[]): void {
    this.close()
    this.fs.mkdirp(path.dirname(this.path))
    const text = entries.map((entry) => `${JSON.stringify({ op: 'open', ...entry })}\n`).join('')
    this.fs.writeFileAtomic(this.path, Buffer.from(text, 'utf8'))
    this.open.clear()
    for (const entry of entries) this.open.set(entry.inUse, entry)
    this.handle = this.fs.open(this.path, 'readwrite')
    this.sizeBytes = this.fs.size(this.handle)
    this.lines = entries.length
    this.dirty = false
  }

  recordOpen(entry: OpenFileEntry): void {
    this.compactIfLong()
    this.append({ op: 'open', ...entry })
    this.open.set(entry.inUse, entry)
  }

  recordClosed(inUse: string): void {
    if (!this.open.delete(inUse)) return
    this.append({ op: 'closed', inUse })
  }

  /** Makes every appended line durable; called before a batch's take commits. */
  sync(): void {
    if (!this.dirty || this.handle === null) return
    this.fs.fdatasync(this.handle)
    this.dirty = false
  }

  close(): void {
    if (this.handle === null) return
    const handle = this.handle
    this.handle = null
    this.fs.close(handle)
  }

  private append(line: Line): void {
    if (this.handle === null) throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY',
      `the open-files journal ${this.path} is not open (the sink has not started)`)
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8')
    this.sizeBytes += this.fs.writev(this.handle, [bytes], this.sizeBytes)
    this.lines++
    this.dirty = true
  }

  private compactIfLong(): void {
    if (this.lines < MAX_JOURNAL_LINES) return
    this.reset([...this.open.values()])
  }
}
