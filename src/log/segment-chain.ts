/**
 * One partition's segments, oldest first: the sealed ones, read through a SegmentFileReader
 * (file handles opened on demand, closed when retired), and the active one, held open and the
 * only one written. Reads name a segment by its SegmentInfo and this room hands each to the
 * reader that holds it, so PartitionLog never asks which kind of segment it has.
 *
 * PartitionLog decides when to roll, retire or reload. A roll is two steps, sealActive then
 * startActive, because the recovery point moves between them: outside 'memory' durability the
 * sealed segment is on stable storage before the next one exists, so a failure creating that one
 * still leaves the recovery point past everything sealed.
 *
 * Invariants: segments are contiguous (each starts at its predecessor's nextOffset); the active
 * segment is the last; a retired segment's handles are closed before its files are renamed.
 */
import { assert } from '../errors.js'
import type { FileSystem } from '../io/file-system.js'
import { ActiveSegment } from './active-segment.js'
import { findSpan, readWholeBatches, type BatchSpan } from './batch-scanner.js'
import type { OffsetIndexEntry, TimeIndexEntry } from './offset-index.js'
import { retireSegmentFiles } from './retention.js'
import { SegmentFileReader } from './segment-file-reader.js'
import type { RecoveryReport, RetiredSegment, SegmentInfo } from './types.js'

export class SegmentChain {
  private sealed: SegmentInfo[] = []
  private current!: ActiveSegment
  private readonly sealedReader: SegmentFileReader

  constructor(private readonly fs: FileSystem, private readonly dir: string) {
    this.sealedReader = new SegmentFileReader(fs, dir)
  }

  /** The segment appends go to. */
  get active(): ActiveSegment {
    return this.current
  }

  get sealedSegments(): readonly SegmentInfo[] {
    return this.sealed
  }

  /** Every segment, the active one last (the live objects: callers copy what they hand out). */
  all(): SegmentInfo[] {
    return [...this.sealed, this.current.info]
  }

  /** Base offset of the oldest segment still held. */
  get oldestBaseOffset(): number {
    return (this.sealed[0] ?? this.current.info).baseOffset
  }

  /** Takes over the segments a recovery scan found; the last becomes the active one. */
  load(report: RecoveryReport, indexIntervalBytes: number): void {
    const segments = report.segments
    assert(segments.length > 0, 'recovery left no segment')
    const last = segments[segments.length - 1]!
    this.sealed = segments.slice(0, -1).map((s) => ({ ...s }))
    this.current = ActiveSegment.reopen(this.fs, this.dir, last, report.activeIndexer,
      indexIntervalBytes)
  }

  /** Seals the active segment (fdatasync of its files when `durable`) and lists it as sealed. */
  sealActive(durable: boolean): SegmentInfo {
    const sealed = this.current.seal(durable)
    this.sealed.push(sealed)
    return sealed
  }

  /** Starts the next active segment, at the sealed one's end. */
  startActive(baseOffset: number, nowMs: number, indexIntervalBytes: number): void {
    this.current = ActiveSegment.create(this.fs, this.dir, baseOffset, nowMs, indexIntervalBytes)
  }

  /** Renames the oldest `count` sealed segments' files to `*.deleted` and forgets them. */
  retireOldest(count: number): RetiredSegment[] {
    const retired = this.sealed.slice(0, count).map((segment) => {
      this.sealedReader.forget(segment.baseOffset)
      return retireSegmentFiles(this.fs, this.dir, segment)
    })
    this.sealed = this.sealed.slice(count)
    return retired
  }

  /** The segment holding `offset`, which the caller has checked is below the log end. */
  segmentFor(offset: number): SegmentInfo {
    if (offset >= this.current.baseOffset) return this.current.info
    let low = 0
    let high = this.sealed.length - 1
    while (low < high) {
      const middle = (low + high + 1) >>> 1
      if (this.sealed[middle]!.baseOffset <= offset) low = middle
      else high = middle - 1
    }
    return this.sealed[low]!
  }

  /** Where in `segment` the batch holding `offset` starts, or null if no batch holds it. */
  positionOf(segment: SegmentInfo, offset: number): number | null {
    return this.isActive(segment)
      ? this.current.locate(offset)
      : this.sealedReader.locate(segment.baseOffset, offset, segment.sizeBytes)
  }

  /** Whole batches of `segment` from `position`, up to maxBytes (at least one batch). */
  readBatches(segment: SegmentInfo, position: number, maxBytes: number): Buffer {
    if (this.isActive(segment)) {
      return readWholeBatches((at, length) => this.current.readAt(at, length), position,
        maxBytes, segment.sizeBytes)
    }
    return this.sealedReader.readBatches(segment.baseOffset, position, maxBytes,
      segment.sizeBytes)
  }

  /** The first batch of `segment` from `position` on for which `found` holds, or null. */
  findBatch(segment: SegmentInfo, position: number, found: (span: BatchSpan) => boolean)
    : BatchSpan | null {
    return this.isActive(segment)
      ? findSpan(this.current.walkWindow, position, segment.sizeBytes, found)
      : this.sealedReader.findBatch(segment.baseOffset, position, segment.sizeBytes, found)
  }

  timeEntries(segment: SegmentInfo): TimeIndexEntry[] {
    return this.isActive(segment) ? this.current.timeEntries
      : this.sealedReader.timeIndex(segment.baseOffset)
  }

  /** Offset-index entries of the segment based at `segmentBaseOffset`; [] if there is none. */
  indexEntries(segmentBaseOffset: number): OffsetIndexEntry[] {
    if (segmentBaseOffset === this.current.baseOffset) return this.current.offsetIndex.entries()
    const segment = this.sealed.find((s) => s.baseOffset === segmentBaseOffset)
    if (segment === undefined) return []
    return this.sealedReader.indexEntries(segmentBaseOffset, segment.sizeBytes)
  }

  /** Closes every file handle; load() opens the chain again. */
  close(): void {
    this.current.close()
    this.sealedReader.close()
  }

  private isActive(segment: SegmentInfo): boolean {
    return segment === this.current.info
  }
}
