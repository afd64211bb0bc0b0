/**
 * Reads a partition's segment files from any thread, without a PartitionLog: readers find data
 * through the engine's shared index and read the files themselves (DESIGN rule 1: only the owner
 * writes; anyone reads).
 *
 * It keeps an LRU of open segments (read-only fd + parsed `.index`), bounded by
 * `maxOpenSegments`, so a read costs one positioned read, not an open. The caller says how many
 * bytes of a segment are committed (`segmentSizeBytes` / `endPositionExclusive`): nothing at or
 * past that is returned, and index entries at or past it are ignored (the owner may have written
 * index entries for bytes not yet acknowledged). A cached index is re-read when the caller's
 * committed size grows past what it was loaded for, so a segment sealed after caching is seen
 * whole. An unreadable index falls back to a header scan from the segment start.
 *
 * A segment deleted under it (retention) fails with SLUICE_ERR_OFFSET_OUT_OF_RANGE: the data is
 * no longer stored. A cached fd of a segment renamed or unlinked keeps reading the old inode,
 * which is what a reader in the middle of a fetch wants.
 */
import { SluiceError, isSluiceError } from '../errors.js'
import type { FileHandle, FileSystem } from '../io/file-system.js'
import { isNotFound } from '../io/node-file-system.js'
import {
  FileWindow, findBatchPosition, findSpan, readWholeBatches, type BatchSpan,
} from './batch-scanner.js'
import {
  OffsetIndex, decodeOffsetIndex, decodeTimeIndex, type OffsetIndexEntry, type TimeIndexEntry,
} from './offset-index.js'
import { segmentFileName, segmentPath } from './segment-files.js'

export const DEFAULT_MAX_OPEN_SEGMENTS = 32
/** Bytes read per call while walking batch headers. */
const WALK_BUFFER_BYTES = 16 * 1024

interface OpenSegment {
  handle: FileHandle
  index: OffsetIndex
  /** The committed size the cached index was filtered for. */
  indexLoadedForBytes: number
}

export class SegmentFileReader {
  private readonly open = new Map<number, OpenSegment>()
  private readonly walkBuffer = Buffer.allocUnsafe(WALK_BUFFER_BYTES)
  private readonly maxOpenSegments: number

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    options: { maxOpenSegments?: number } = {},
  ) {
    this.maxOpenSegments = Math.max(1, options.maxOpenSegments ?? DEFAULT_MAX_OPEN_SEGMENTS)
  }

  /** Position of the batch holding `offset`, or null if the committed bytes do not reach it. */
  locate(segmentBaseOffset: number, offset: number, segmentSizeBytes: number): number | null {
    if (offset < segmentBaseOffset) return null
    const segment = this.segment(segmentBaseOffset, segmentSizeBytes)
    const start = segment.index.floorPosition(offset)
    const window = this.window(segment)
    if (start > 0) {
      // An index is derived state: if its entry does not lead to the batch, scan from the start.
      try {
        const span = findSpan(window, start, segmentSizeBytes, (s) => s.lastOffset >= offset)
        if (span === null || span.baseOffset <= offset) return span?.position ?? null
      } catch (error) {
        if (!isSluiceError(error, 'SLUICE_ERR_CORRUPT_BATCH')) throw error
      }
    }
    return findBatchPosition(window, 0, segmentSizeBytes, offset)
  }

  /** Raw bytes [position, min(position + maxBytes, endPositionExclusive)): may end mid-batch. */
  read(segmentBaseOffset: number, position: number, maxBytes: number,
    endPositionExclusive: number): Buffer {
    const length = Math.max(0, Math.min(maxBytes, endPositionExclusive - position))
    const bytes = Buffer.allocUnsafe(length)
    if (length === 0) return bytes
    let filled = this.fill(this.segment(segmentBaseOffset, 0), bytes, position)
    if (filled < length) {
      // The cached fd may name a file replaced since (truncated and rewritten by recovery).
      this.forget(segmentBaseOffset)
      filled = this.fill(this.segment(segmentBaseOffset, 0), bytes, position)
    }
    if (filled < length) {
      throw new SluiceError('SLUICE_ERR_OFFSET_OUT_OF_RANGE',
        `${segmentFileName(segmentBaseOffset, 'log')} in ${this.dir} ends at ` +
        `${position + filled}, below the ${endPositionExclusive} bytes committed`)
    }
    return bytes
  }

  /** Whole batches from `position` up to maxBytes, at least one, never past the end given. */
  readBatches(segmentBaseOffset: number, position: number, maxBytes: number,
    endPositionExclusive: number): Buffer {
    return readWholeBatches(
      (at, length) => this.read(segmentBaseOffset, at, length, endPositionExclusive),
      position, maxBytes, endPositionExclusive)
  }

  /** The first batch from `startPosition` for which `found` holds, walking headers. */
  findBatch(segmentBaseOffset: number, startPosition: number, endPositionExclusive: number,
    found: (span: BatchSpan) => boolean): BatchSpan | null {
    const segment = this.segment(segmentBaseOffset, 0)
    return findSpan(this.window(segment), startPosition, endPositionExclusive, found)
  }

  /** The segment's offset-index entries below its committed size. */
  indexEntries(segmentBaseOffset: number, segmentSizeBytes: number): OffsetIndexEntry[] {
    return this.segment(segmentBaseOffset, segmentSizeBytes).index.entries(segmentSizeBytes)
  }

  /** The segment's time index, read afresh (timestamp lookups are rare); [] when unreadable. */
  timeIndex(segmentBaseOffset: number): TimeIndexEntry[] {
    const bytes = this.fs.readFile(segmentPath(this.dir, segmentBaseOffset, 'timeindex'))
    return bytes === null ? [] : decodeTimeIndex(bytes, segmentBaseOffset).entries
  }

  /** Closes a segment's fd (its files are being retired or rewritten). */
  forget(segmentBaseOffset: number): void {
    const segment = this.open.get(segmentBaseOffset)
    if (segment === undefined) return
    this.open.delete(segmentBaseOffset)
    this.fs.close(segment.handle)
  }

  close(): void {
    for (const base of [...this.open.keys()]) this.forget(base)
  }

  private segment(baseOffset: number, committedBytes: number): OpenSegment {
    let segment = this.open.get(baseOffset)
    if (segment !== undefined) {
      this.open.delete(baseOffset) // re-inserted below: Map order is the LRU order
    } else {
      segment = { handle: this.openLog(baseOffset), index: new OffsetIndex(baseOffset),
        indexLoadedForBytes: 0 }
    }
    if (committedBytes > segment.indexLoadedForBytes) {
      segment.index = this.loadIndex(baseOffset, committedBytes)
      segment.indexLoadedForBytes = committedBytes
    }
    this.open.set(baseOffset, segment)
    while (this.open.size > this.maxOpenSegments) this.forget(this.open.keys().next().value!)
    return segment
  }

  private openLog(baseOffset: number): FileHandle {
    try {
      return this.fs.open(segmentPath(this.dir, baseOffset, 'log'), 'read')
    } catch (error) {
      if (!isNotFound(error)) throw error
      throw new SluiceError('SLUICE_ERR_OFFSET_OUT_OF_RANGE',
        `${segmentFileName(baseOffset, 'log')} is no longer in ${this.dir} (deleted by retention)`)
    }
  }

  private loadIndex(baseOffset: number, committedBytes: number): OffsetIndex {
    const bytes = this.fs.readFile(segmentPath(this.dir, baseOffset, 'index'))
    if (bytes === null) return new OffsetIndex(baseOffset)
    // Entries at or past the committed size are the owner's, not yet acknowledged: drop them.
    const whole = bytes.subarray(0, bytes.byteLength - (bytes.byteLength % 8))
    const { index, problem } = decodeOffsetIndex(whole, baseOffset, Number.MAX_SAFE_INTEGER)
    if (problem !== null) return new OffsetIndex(baseOffset)
    const trusted = new OffsetIndex(baseOffset)
    for (const entry of index.entries(committedBytes)) trusted.append(entry.offset, entry.position)
    return trusted
  }

  private window(segment: OpenSegment): FileWindow {
    return new FileWindow(this.fs, segment.handle, this.walkBuffer)
  }

  private fill(segment: OpenSegment, target: Buffer, position: number): number {
    let filled = 0
    while (filled < target.byteLength) {
      const read = this.fs.read(segment.handle, target, filled, target.byteLength - filled,
        position + filled)
      if (read === 0) break
      filled += read
    }
    return filled
  }
}
