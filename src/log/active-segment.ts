/**
 * The segment a partition log appends to: its three open files, its offset and time indexes held
 * in memory (what the engine publishes to readers and what locate/timeLookup consult), and the
 * index rule's running state.
 *
 * Write order per append group: the batches with one writev to `.log`, then new index entries
 * with one writev each to `.index` and `.timeindex`. Index files are derived state, written
 * after the data and synced only when the segment is sealed or the log closes cleanly; a crash
 * that loses index bytes costs a rebuild at recovery, never data.
 *
 * Invariants: `sizeBytes` is the length of `.log` holding whole batches; the in-memory indexes
 * equal the index files' contents; positions fit int32 (segmentBytes ≤ 2^31-1 and a batch is
 * appended to a non-empty segment only if it fits).
 */
import { assert } from '../errors.js'
import type { FileHandle, FileSystem } from '../io/file-system.js'
import { FileWindow, findBatchPosition } from './batch-scanner.js'
import {
  OffsetIndex, SegmentIndexer, decodeOffsetIndex, decodeTimeIndex, encodeOffsetEntries,
  encodeTimeEntries, type IndexedBatch, type IndexerState, type OffsetIndexEntry,
  type TimeIndexEntry,
} from './offset-index.js'
import { segmentPath } from './segment-files.js'
import type { SegmentInfo } from './types.js'

/** Bytes read per call while walking headers in the active segment. */
const WALK_BUFFER_BYTES = 16 * 1024

export class ActiveSegment {
  readonly offsetIndex: OffsetIndex
  readonly timeEntries: TimeIndexEntry[]
  /** Log bytes written since the last fdatasync of `.log`. */
  unsyncedBytes = 0
  private indexFileBytes: number
  private timeIndexFileBytes: number
  private readonly window: FileWindow
  private open = true

  private constructor(
    private readonly fs: FileSystem,
    readonly info: SegmentInfo,
    private readonly indexer: SegmentIndexer,
    offsetIndex: OffsetIndex,
    timeEntries: TimeIndexEntry[],
    private readonly handles: { log: FileHandle; index: FileHandle; timeindex: FileHandle },
  ) {
    this.offsetIndex = offsetIndex
    this.timeEntries = timeEntries
    this.indexFileBytes = fs.size(handles.index)
    this.timeIndexFileBytes = fs.size(handles.timeindex)
    this.window = new FileWindow(fs, handles.log, Buffer.allocUnsafe(WALK_BUFFER_BYTES))
  }

  /** Starts a new, empty segment at `baseOffset`. */
  static create(
    fs: FileSystem, dir: string, baseOffset: number, createdMs: number, indexIntervalBytes: number,
  ): ActiveSegment {
    const handles = openSegmentFiles(fs, dir, baseOffset)
    assert(fs.size(handles.log) === 0, `new segment ${baseOffset} already has bytes`)
    fs.truncate(handles.index, 0)
    fs.truncate(handles.timeindex, 0)
    const info: SegmentInfo = {
      baseOffset, sizeBytes: 0, nextOffset: baseOffset, path: segmentPath(dir, baseOffset, 'log'),
      maxTimestamp: -1, createdMs,
    }
    return new ActiveSegment(fs, info, new SegmentIndexer(indexIntervalBytes),
      new OffsetIndex(baseOffset), [], handles)
  }

  /** Continues a recovered segment; its index files were checked or rebuilt by recovery. */
  static reopen(
    fs: FileSystem, dir: string, info: SegmentInfo, state: IndexerState, indexIntervalBytes: number,
  ): ActiveSegment {
    const handles = openSegmentFiles(fs, dir, info.baseOffset)
    try {
      assert(fs.size(handles.log) === info.sizeBytes,
        `segment ${info.baseOffset} is ${fs.size(handles.log)} bytes, ` +
        `recovery said ${info.sizeBytes}`)
      const offsets = decodeOffsetIndex(fs.readFile(segmentPath(dir, info.baseOffset, 'index'))!,
        info.baseOffset, Math.max(info.sizeBytes, 1))
      assert(offsets.problem === null, `recovered offset index: ${offsets.problem}`)
      const times = decodeTimeIndex(fs.readFile(segmentPath(dir, info.baseOffset, 'timeindex'))!,
        info.baseOffset)
      assert(times.problem === null, `recovered time index: ${times.problem}`)
      return new ActiveSegment(fs, { ...info }, new SegmentIndexer(indexIntervalBytes, state),
        offsets.index, times.entries, handles)
    } catch (error) {
      for (const handle of Object.values(handles)) fs.close(handle)
      throw error
    }
  }

  get baseOffset(): number {
    return this.info.baseOffset
  }

  /**
   * Writes whole batches (offsets already assigned) at the end of `.log` with one writev, then
   * their index entries. `spans` describe the batches at the positions they land.
   */
  write(batches: readonly Uint8Array[], spans: readonly IndexedBatch[]): OffsetIndexEntry[] {
    assert(this.open, 'write to a closed segment')
    const offsetEntries: OffsetIndexEntry[] = []
    const timeEntries: TimeIndexEntry[] = []
    let bytes = 0
    for (const span of spans) {
      assert(span.position === this.info.sizeBytes + bytes, 'batch placed off the segment end')
      const { offsetEntry, timeEntry } = this.indexer.add(span)
      if (offsetEntry !== null) offsetEntries.push(offsetEntry)
      if (timeEntry !== null) timeEntries.push(timeEntry)
      bytes += span.sizeBytes
    }
    const written = this.fs.writev(this.handles.log, batches, this.info.sizeBytes)
    assert(written === bytes, `writev wrote ${written} of ${bytes} bytes`)
    const last = spans[spans.length - 1]!
    this.info.sizeBytes += bytes
    this.info.nextOffset = last.lastOffset + 1
    for (const span of spans) {
      this.info.maxTimestamp = Math.max(this.info.maxTimestamp, span.maxTimestamp)
    }
    this.unsyncedBytes += bytes
    this.appendIndexEntries(offsetEntries, timeEntries)
    return offsetEntries
  }

  syncLog(): void {
    this.fs.fdatasync(this.handles.log)
    this.unsyncedBytes = 0
  }

  /** fdatasync of all three files: before a clean close marks the log as trustworthy. */
  syncAll(): void {
    this.syncLog()
    this.fs.fdatasync(this.handles.index)
    this.fs.fdatasync(this.handles.timeindex)
  }

  /** Ends the segment: its last time entry, then (if `durable`) syncs, then closes. */
  seal(durable: boolean): SegmentInfo {
    const sealEntry = this.indexer.seal()
    if (sealEntry !== null) this.appendIndexEntries([], [sealEntry])
    if (durable) this.syncAll()
    this.close()
    return { ...this.info }
  }

  /** Position of the batch holding `offset` (which must lie in this segment). */
  locate(offset: number): number | null {
    const start = this.offsetIndex.floorPosition(offset)
    return findBatchPosition(this.window, start, this.info.sizeBytes, offset)
  }

  /** Walks headers from `startPosition`, through the same window as locate. */
  get walkWindow(): FileWindow {
    this.window.invalidate()
    return this.window
  }

  /** Exactly `length` bytes of `.log` at `position` (which must lie below sizeBytes). */
  readAt(position: number, length: number): Buffer {
    assert(position + length <= this.info.sizeBytes, 'read past the active segment end')
    const bytes = Buffer.allocUnsafe(length)
    let filled = 0
    while (filled < length) {
      const read = this.fs.read(this.handles.log, bytes, filled, length - filled, position + filled)
      assert(read > 0, `active segment ended at ${position + filled}, below its size`)
      filled += read
    }
    return bytes
  }

  close(): void {
    if (!this.open) return
    this.open = false
    for (const handle of Object.values(this.handles)) this.fs.close(handle)
  }

  private appendIndexEntries(offsets: OffsetIndexEntry[], times: TimeIndexEntry[]): void {
    const base = this.info.baseOffset
    if (offsets.length > 0) {
      const bytes = encodeOffsetEntries(base, offsets)
      this.fs.writev(this.handles.index, [bytes], this.indexFileBytes)
      this.indexFileBytes += bytes.byteLength
      for (const entry of offsets) this.offsetIndex.append(entry.offset, entry.position)
    }
    if (times.length > 0) {
      const bytes = encodeTimeEntries(base, times)
      this.fs.writev(this.handles.timeindex, [bytes], this.timeIndexFileBytes)
      this.timeIndexFileBytes += bytes.byteLength
      this.timeEntries.push(...times)
    }
  }
}

function openSegmentFiles(fs: FileSystem, dir: string, baseOffset: number)
  : { log: FileHandle; index: FileHandle; timeindex: FileHandle } {
  const log = fs.open(segmentPath(dir, baseOffset, 'log'), 'create')
  let index: FileHandle | null = null
  try {
    index = fs.open(segmentPath(dir, baseOffset, 'index'), 'create')
    const timeindex = fs.open(segmentPath(dir, baseOffset, 'timeindex'), 'create')
    return { log, index, timeindex }
  } catch (error) {
    fs.close(log)
    if (index !== null) fs.close(index)
    throw error
  }
}
