/**
 * The shared offset index of one partition: a SharedArrayBuffer that its shard (the only writer,
 * DESIGN rule 1) publishes after every group commit, and that readers on any thread consult to
 * find data without asking the shard.
 *
 * Layout (byte offsets; i32 and f64 are little-endian host order):
 *
 *   0   i32 seq              seqlock: odd while the shard is writing, even when stable
 *   4   i32 hwEpoch          +1 each time the high watermark moves; readers Atomics.wait on it
 *   8   i32 status           PartitionStatus
 *  12   i32 segmentCount     entries used in the segment directory
 *  16   i32 indexEntryCount  entries used in the active segment's offset index
 *  20   i32 directoryGen     +1 whenever the directory changes shape (roll, retention)
 *  64   f64 logStartOffset
 *  72   f64 highWatermark    every offset below it is acknowledged and readable
 *  80   f64 activeSegmentBaseOffset
 *  88   f64 activeCommittedBytes   bytes of the active segment below the high watermark
 * 128   directory: DIRECTORY_CAPACITY × { f64 baseOffset, f64 committedBytes, f64 nextOffset }
 *       newest segments; older ones (rare) are found by listing the partition directory
 *   …   active index: INDEX_CAPACITY × { i32 relativeOffset, i32 position }
 *
 * Readers take a consistent snapshot with the seqlock: read seq (retry while odd), read the
 * fields, read seq again and retry if it moved. The shard never blocks on readers.
 */
import { assert } from '../errors.js'

export const enum PartitionStatus {
  Open = 0,
  StorageFailed = 1,
  Deleted = 2,
  Closed = 3,
}

/** Newest segments listed in shared memory; older ones are found on disk. */
export const DIRECTORY_CAPACITY = 1024
/** Offset-index entries of the active segment kept in shared memory (256 MiB at 4 KiB). */
export const INDEX_CAPACITY = 65_536

const I32 = { seq: 0, hwEpoch: 1, status: 2, segmentCount: 3, indexEntryCount: 4, dirGen: 5 }
const F64 = { logStart: 8, highWatermark: 9, activeBase: 10, activeCommitted: 11 }
const DIRECTORY_BYTE = 128
const DIRECTORY_ENTRY_F64 = 3
const INDEX_BYTE = DIRECTORY_BYTE + DIRECTORY_CAPACITY * DIRECTORY_ENTRY_F64 * 8
export const SHARED_INDEX_BYTES = INDEX_BYTE + INDEX_CAPACITY * 8

export interface DirectoryEntry {
  baseOffset: number
  committedBytes: number
  nextOffset: number
}

export interface PublishedState {
  logStartOffset: number
  highWatermark: number
  /** Oldest first; the last entry is the active segment. */
  segments: DirectoryEntry[]
}

/** Views over one partition's index buffer, shared by the writer and readers. */
class IndexViews {
  readonly i32: Int32Array
  readonly f64: Float64Array
  readonly index: Int32Array

  constructor(readonly buffer: SharedArrayBuffer) {
    assert(buffer.byteLength === SHARED_INDEX_BYTES, 'shared index buffer has the wrong size')
    this.i32 = new Int32Array(buffer, 0, DIRECTORY_BYTE / 4)
    this.f64 = new Float64Array(buffer, 0, INDEX_BYTE / 8)
    this.index = new Int32Array(buffer, INDEX_BYTE, INDEX_CAPACITY * 2)
  }
}

export function createSharedIndexBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(SHARED_INDEX_BYTES)
}

/** The shard's side. */
export class SharedIndexWriter {
  private readonly views: IndexViews

  constructor(buffer: SharedArrayBuffer) {
    this.views = new IndexViews(buffer)
  }

  /** Rewrites the whole directory and the active index (after open, roll or retention). */
  publishLayout(
    state: PublishedState, activeIndex: readonly { offset: number; position: number }[],
  ): void {
    const { i32, f64 } = this.views
    this.beginWrite()
    const segments = state.segments.slice(-DIRECTORY_CAPACITY)
    segments.forEach((segment, slot) => this.writeDirectoryEntry(slot, segment))
    Atomics.store(i32, I32.segmentCount, segments.length)
    Atomics.store(i32, I32.indexEntryCount, 0)
    const active = segments[segments.length - 1]
    f64[F64.activeBase] = active?.baseOffset ?? 0
    f64[F64.activeCommitted] = active?.committedBytes ?? 0
    for (const entry of activeIndex) this.appendIndexEntryUnlocked(entry.offset, entry.position)
    f64[F64.logStart] = state.logStartOffset
    f64[F64.highWatermark] = state.highWatermark
    Atomics.add(i32, I32.dirGen, 1)
    this.endWrite()
    this.wakeReaders()
  }

  /** After a group commit that stayed in the same active segment. */
  publishAppend(
    highWatermark: number, activeCommittedBytes: number,
    newIndexEntries: readonly { offset: number; position: number }[],
  ): void {
    const { i32, f64 } = this.views
    const count = Atomics.load(i32, I32.segmentCount)
    assert(count > 0, 'publishAppend before publishLayout')
    assert(highWatermark >= f64[F64.highWatermark]!, 'high watermark moved backwards')
    this.beginWrite()
    for (const entry of newIndexEntries) this.appendIndexEntryUnlocked(entry.offset, entry.position)
    const last = DIRECTORY_BYTE / 8 + (count - 1) * DIRECTORY_ENTRY_F64
    f64[last + 1] = activeCommittedBytes
    f64[last + 2] = highWatermark
    f64[F64.activeCommitted] = activeCommittedBytes
    f64[F64.highWatermark] = highWatermark
    this.endWrite()
    this.wakeReaders()
  }

  setStatus(status: PartitionStatus): void {
    Atomics.store(this.views.i32, I32.status, status)
    this.wakeReaders()
  }

  private writeDirectoryEntry(slot: number, entry: DirectoryEntry): void {
    const at = DIRECTORY_BYTE / 8 + slot * DIRECTORY_ENTRY_F64
    this.views.f64[at] = entry.baseOffset
    this.views.f64[at + 1] = entry.committedBytes
    this.views.f64[at + 2] = entry.nextOffset
  }

  private appendIndexEntryUnlocked(offset: number, position: number): void {
    const { i32, f64, index } = this.views
    const count = Atomics.load(i32, I32.indexEntryCount)
    // Past the capacity, readers scan forward from the last entry: slower, still correct.
    if (count >= INDEX_CAPACITY) return
    index[count * 2] = offset - f64[F64.activeBase]!
    index[count * 2 + 1] = position
    Atomics.store(i32, I32.indexEntryCount, count + 1)
  }

  private beginWrite(): void {
    const after = Atomics.add(this.views.i32, I32.seq, 1) + 1
    assert(after % 2 === 1, 'shared index seqlock entered twice')
  }

  private endWrite(): void {
    Atomics.add(this.views.i32, I32.seq, 1)
  }

  private wakeReaders(): void {
    Atomics.add(this.views.i32, I32.hwEpoch, 1)
    Atomics.notify(this.views.i32, I32.hwEpoch)
  }
}

/** Where a reader should start: a segment, and a position at or before the wanted batch. */
export interface ReadPlan {
  segmentBaseOffset: number
  /** Scan forward from here (an index entry at or before the offset). */
  startPosition: number
  /** Bytes of this segment that are below the high watermark. */
  committedBytes: number
  highWatermark: number
  logStartOffset: number
  isActiveSegment: boolean
}

/** Tries a reader spins on a write in progress before it sleeps on the sequence word instead. */
const SEQLOCK_SPINS = 1_000
/** A write that stays in progress this long means a dead or stuck writer, not a slow one. */
const SEQLOCK_GIVE_UP_MS = 1_000
/** One sleep on the sequence word; the writer does not notify it, so the timeout wakes us. */
const SEQLOCK_SLEEP_MS = 1

/** Any thread's side. Never writes. */
export class SharedIndexReader {
  private readonly views: IndexViews

  constructor(buffer: SharedArrayBuffer) {
    this.views = new IndexViews(buffer)
  }

  get status(): PartitionStatus {
    return Atomics.load(this.views.i32, I32.status)
  }

  /** The value to pass to waitForChange; read it before checking the high watermark. */
  get epoch(): number {
    return Atomics.load(this.views.i32, I32.hwEpoch)
  }

  offsets(): { logStartOffset: number; highWatermark: number } {
    return this.consistent(() => ({
      logStartOffset: this.views.f64[F64.logStart]!,
      highWatermark: this.views.f64[F64.highWatermark]!,
    }))
  }

  /** Resolves true when the high watermark (or status) changed since `epoch`, false on timeout. */
  async waitForChange(epoch: number, timeoutMs: number): Promise<boolean> {
    const result = Atomics.waitAsync(this.views.i32, I32.hwEpoch, epoch, timeoutMs)
    const outcome = result.async ? await result.value : result.value
    return outcome !== 'timed-out'
  }

  /**
   * Finds where `offset` lives. Returns null when the segment is older than the shared directory
   * (the caller then lists the partition directory) — offsets outside [logStart, HW) are the
   * caller's to reject before calling.
   */
  plan(offset: number): ReadPlan | null {
    return this.consistent(() => this.planUnlocked(offset))
  }

  private planUnlocked(offset: number): ReadPlan | null {
    const { i32, f64 } = this.views
    const count = i32[I32.segmentCount]!
    const slot = this.findSegmentSlot(offset, count)
    if (slot < 0) return null
    const at = DIRECTORY_BYTE / 8 + slot * DIRECTORY_ENTRY_F64
    const segmentBaseOffset = f64[at]!
    const isActiveSegment = slot === count - 1
    return {
      segmentBaseOffset,
      startPosition: isActiveSegment ? this.activeIndexPosition(offset - segmentBaseOffset) : 0,
      committedBytes: f64[at + 1]!,
      highWatermark: f64[F64.highWatermark]!,
      logStartOffset: f64[F64.logStart]!,
      isActiveSegment,
    }
  }

  /** Greatest directory slot whose base offset ≤ offset, or -1. */
  private findSegmentSlot(offset: number, count: number): number {
    const { f64 } = this.views
    let low = 0
    let high = count - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (f64[DIRECTORY_BYTE / 8 + middle * DIRECTORY_ENTRY_F64]! <= offset) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return found
  }

  private activeIndexPosition(relativeOffset: number): number {
    const { i32, index } = this.views
    let low = 0
    let high = i32[I32.indexEntryCount]! - 1
    let position = 0
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (index[middle * 2]! <= relativeOffset) {
        position = index[middle * 2 + 1]!
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return position
  }

  /**
   * Reads the fields under the seqlock. A write takes well under a microsecond, so a reader
   * spins first; but a writer thread descheduled inside its write (a loaded machine) holds the
   * sequence odd for a whole scheduling quantum, milliseconds, so after SEQLOCK_SPINS tries the
   * reader sleeps on the sequence word instead of spinning, and gives up only after
   * SEQLOCK_GIVE_UP_MS.
   */
  private consistent<T>(readFields: () => T): T {
    const { i32 } = this.views
    let giveUpAtMs = 0
    for (let attempt = 1; ; attempt++) {
      const before = Atomics.load(i32, I32.seq)
      if (before % 2 === 0) {
        const value = readFields()
        if (Atomics.load(i32, I32.seq) === before) return value
      }
      if (attempt < SEQLOCK_SPINS) continue
      const nowMs = Date.now()
      if (giveUpAtMs === 0) giveUpAtMs = nowMs + SEQLOCK_GIVE_UP_MS
      else if (nowMs > giveUpAtMs) {
        throw new Error(`shared index: no stable snapshot for ${SEQLOCK_GIVE_UP_MS} ms ` +
          '(writer stuck?)')
      }
      Atomics.wait(i32, I32.seq, Atomics.load(i32, I32.seq), SEQLOCK_SLEEP_MS)
    }
  }
}
