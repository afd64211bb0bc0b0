/**
 * A segment's two derived indexes, in Kafka's byte formats (big-endian), and the rule that
 * decides when an entry is written.
 *
 *   .index      8-byte entries   [int32 relativeOffset][int32 position]
 *               the batch starting at `position` ends at baseOffset + relativeOffset
 *   .timeindex  12-byte entries  [int64 timestamp][int32 relativeOffset]
 *               the newest timestamp among batches up to that point, and the last offset of the
 *               batch holding it; timestamps strictly increase
 *
 * The rule (Kafka's LogSegment.append, per batch): before placing a batch, if more than
 * indexIntervalBytes were appended since the last offset entry, write an offset entry for this
 * batch and, if the segment's newest timestamp grew since the last time entry, a time entry.
 * Sealing a segment adds a last time entry if the newest timestamp grew since.
 *
 * Invariant: the rule is a pure function of the segment's batches, so recovery can recompute the
 * exact bytes an index should hold and compare; append and recovery both use SegmentIndexer.
 */
export const OFFSET_ENTRY_BYTES = 8
export const TIME_ENTRY_BYTES = 12
export const NO_TIMESTAMP = -1

export interface OffsetIndexEntry {
  /** Absolute last offset of the batch at `position`. */
  offset: number
  position: number
}

export interface TimeIndexEntry {
  timestamp: number
  /** Absolute last offset of the batch holding `timestamp`. */
  offset: number
}

export interface IndexerState {
  bytesSinceEntry: number
  maxTimestamp: number
  offsetOfMaxTimestamp: number
  lastTimeEntryTimestamp: number
}

export const EMPTY_INDEXER_STATE: IndexerState = {
  bytesSinceEntry: 0,
  maxTimestamp: NO_TIMESTAMP,
  offsetOfMaxTimestamp: -1,
  lastTimeEntryTimestamp: NO_TIMESTAMP,
}

export interface IndexedBatch {
  position: number
  sizeBytes: number
  lastOffset: number
  maxTimestamp: number
}

/** Applies the index rule batch by batch; see the module comment. */
export class SegmentIndexer {
  private state: IndexerState

  constructor(private readonly intervalBytes: number, state: IndexerState = EMPTY_INDEXER_STATE) {
    this.state = { ...state }
  }

  add(batch: IndexedBatch)
    : { offsetEntry: OffsetIndexEntry | null; timeEntry: TimeIndexEntry | null } {
    const state = this.state
    if (batch.maxTimestamp > state.maxTimestamp) {
      state.maxTimestamp = batch.maxTimestamp
      state.offsetOfMaxTimestamp = batch.lastOffset
    }
    let offsetEntry: OffsetIndexEntry | null = null
    let timeEntry: TimeIndexEntry | null = null
    if (state.bytesSinceEntry > this.intervalBytes) {
      offsetEntry = { offset: batch.lastOffset, position: batch.position }
      timeEntry = this.timeEntryIfGrown()
      state.bytesSinceEntry = 0
    }
    state.bytesSinceEntry += batch.sizeBytes
    return { offsetEntry, timeEntry }
  }

  /** The time entry sealing adds, if any. */
  seal(): TimeIndexEntry | null {
    return this.timeEntryIfGrown()
  }

  get snapshot(): IndexerState {
    return { ...this.state }
  }

  private timeEntryIfGrown(): TimeIndexEntry | null {
    const state = this.state
    if (state.maxTimestamp <= state.lastTimeEntryTimestamp) return null
    state.lastTimeEntryTimestamp = state.maxTimestamp
    return { timestamp: state.maxTimestamp, offset: state.offsetOfMaxTimestamp }
  }
}

export function encodeOffsetEntries(
  baseOffset: number, entries: readonly OffsetIndexEntry[],
): Buffer {
  const bytes = Buffer.allocUnsafe(entries.length * OFFSET_ENTRY_BYTES)
  entries.forEach((entry, i) => {
    bytes.writeInt32BE(entry.offset - baseOffset, i * OFFSET_ENTRY_BYTES)
    bytes.writeInt32BE(entry.position, i * OFFSET_ENTRY_BYTES + 4)
  })
  return bytes
}

export function encodeTimeEntries(baseOffset: number, entries: readonly TimeIndexEntry[]): Buffer {
  const bytes = Buffer.allocUnsafe(entries.length * TIME_ENTRY_BYTES)
  entries.forEach((entry, i) => {
    bytes.writeBigInt64BE(BigInt(entry.timestamp), i * TIME_ENTRY_BYTES)
    bytes.writeInt32BE(entry.offset - baseOffset, i * TIME_ENTRY_BYTES + 8)
  })
  return bytes
}

/** Parsed offset index; `problem` names why the bytes cannot be trusted (then entries = []). */
export function decodeOffsetIndex(
  bytes: Uint8Array, baseOffset: number, segmentSizeBytes: number,
): { index: OffsetIndex; problem: string | null } {
  const index = new OffsetIndex(baseOffset)
  if (bytes.byteLength % OFFSET_ENTRY_BYTES !== 0) {
    return { index, problem: `size ${bytes.byteLength} is not a multiple of ${OFFSET_ENTRY_BYTES}` }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let at = 0; at < bytes.byteLength; at += OFFSET_ENTRY_BYTES) {
    const relative = view.getInt32(at)
    const position = view.getInt32(at + 4)
    const previous = index.count === 0 ? null : index.entry(index.count - 1)
    const offset = baseOffset + relative
    if (relative < 0 || position < 0 || position >= segmentSizeBytes
      || (previous !== null && (offset <= previous.offset || position <= previous.position))) {
      return { index: new OffsetIndex(baseOffset),
        problem: `entry ${at / OFFSET_ENTRY_BYTES} (${relative}, ${position}) is out of order` }
    }
    index.append(offset, position)
  }
  return { index, problem: null }
}

export function decodeTimeIndex(
  bytes: Uint8Array, baseOffset: number,
): { entries: TimeIndexEntry[]; problem: string | null } {
  if (bytes.byteLength % TIME_ENTRY_BYTES !== 0) {
    return { entries: [],
      problem: `size ${bytes.byteLength} is not a multiple of ${TIME_ENTRY_BYTES}` }
  }
  const entries: TimeIndexEntry[] = []
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let at = 0; at < bytes.byteLength; at += TIME_ENTRY_BYTES) {
    const timestamp = Number(view.getBigInt64(at))
    const relative = view.getInt32(at + 8)
    const previous = entries[entries.length - 1]
    if (relative < 0 || timestamp < 0 || (previous !== undefined
      && (timestamp <= previous.timestamp || baseOffset + relative <= previous.offset))) {
      return { entries: [], problem: `entry ${at / TIME_ENTRY_BYTES} is out of order` }
    }
    entries.push({ timestamp, offset: baseOffset + relative })
  }
  return { entries, problem: null }
}

/** Greatest time entry whose timestamp is below `timestampMs`, or undefined. */
export function lastTimeEntryBelow(
  entries: readonly TimeIndexEntry[], timestampMs: number,
): TimeIndexEntry | undefined {
  let low = 0
  let high = entries.length - 1
  let found: TimeIndexEntry | undefined
  while (low <= high) {
    const middle = (low + high) >>> 1
    const entry = entries[middle]!
    if (entry.timestamp < timestampMs) {
      found = entry
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  return found
}

const INITIAL_CAPACITY = 64

/** An offset index held in two growable Int32Arrays (relative offsets, positions). */
export class OffsetIndex {
  private relativeOffsets = new Int32Array(INITIAL_CAPACITY)
  private positions = new Int32Array(INITIAL_CAPACITY)
  count = 0

  constructor(readonly baseOffset: number) {}

  append(offset: number, position: number): void {
    if (this.count === this.positions.length) {
      const relativeOffsets = new Int32Array(this.count * 2)
      const positions = new Int32Array(this.count * 2)
      relativeOffsets.set(this.relativeOffsets)
      positions.set(this.positions)
      this.relativeOffsets = relativeOffsets
      this.positions = positions
    }
    this.relativeOffsets[this.count] = offset - this.baseOffset
    this.positions[this.count] = position
    this.count++
  }

  entry(i: number): OffsetIndexEntry {
    return { offset: this.baseOffset + this.relativeOffsets[i]!, position: this.positions[i]! }
  }

  /** Position to start a forward scan for `offset`: the greatest entry ≤ offset, else 0. */
  floorPosition(offset: number): number {
    const relative = offset - this.baseOffset
    let low = 0
    let high = this.count - 1
    let position = 0
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (this.relativeOffsets[middle]! <= relative) {
        position = this.positions[middle]!
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return position
  }

  /** Entries whose position is below `sizeBytes` (an index may run ahead of committed bytes). */
  entries(sizeBytes = Number.POSITIVE_INFINITY): OffsetIndexEntry[] {
    const out: OffsetIndexEntry[] = []
    for (let i = 0; i < this.count && this.positions[i]! < sizeBytes; i++) out.push(this.entry(i))
    return out
  }
}
