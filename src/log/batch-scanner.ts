/**
 * Walking the batches of a segment file without decoding records: headers for locating and for
 * tail checks, headers plus a streamed CRC-32C for recovery. All reads go through one reusable
 * buffer (FileWindow), so a scan allocates nothing per batch and never trusts a length it read:
 * a batch's declared size is checked against the bytes left in the segment before it is used,
 * and CRCs of batches larger than the buffer are computed chunk by chunk.
 */
import { crc32c } from '@node-rs/crc32'
import { assert, isSluiceError } from '../errors.js'
import {
  BATCH_HEADER_BYTES, BATCH_LENGTH_PREFIX_BYTES, CRC_START, Codec, Field, corruptBatch,
  readBatchHeader,
} from '../format/batch-header.js'
import type { FileHandle, FileSystem } from '../io/file-system.js'
import {
  SegmentIndexer, type OffsetIndexEntry, type TimeIndexEntry,
} from './offset-index.js'

/** A batch found in a segment, as far as its header tells. */
export interface BatchSpan {
  position: number
  sizeBytes: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
  crc: number
  codec: number
}

/** Positioned reads through one buffer: the buffer holds file bytes [start, end). */
export class FileWindow {
  private start = 0
  private end = 0

  constructor(
    private readonly fs: FileSystem,
    private readonly handle: FileHandle,
    private readonly buffer: Buffer,
  ) {}

  get capacityBytes(): number {
    return this.buffer.byteLength
  }

  /** Up to `length` (≤ capacity) bytes at `position`; fewer only where the file ends. */
  view(position: number, length: number): Buffer {
    assert(length <= this.buffer.byteLength, `window read of ${length} bytes exceeds its buffer`)
    if (position >= this.start && position + length <= this.end) {
      return this.buffer.subarray(position - this.start, position - this.start + length)
    }
    let filled = 0
    while (filled < this.buffer.byteLength) {
      const read = this.fs.read(this.handle, this.buffer, filled, this.buffer.byteLength - filled,
        position + filled)
      if (read === 0) break
      filled += read
    }
    this.start = position
    this.end = position + filled
    return this.buffer.subarray(0, Math.min(length, filled))
  }

  /** Forget the buffered bytes (the file changed under them). */
  invalidate(): void {
    this.start = 0
    this.end = 0
  }
}

/** The header at `position`, checked against the `endPosition` of trusted bytes, or a problem. */
export function readSpan(
  window: FileWindow, position: number, endPosition: number,
): BatchSpan | string {
  const remaining = endPosition - position
  if (remaining < BATCH_HEADER_BYTES) {
    return `torn tail: ${remaining} bytes at ${position}, less than a batch header`
  }
  const bytes = window.view(position, BATCH_HEADER_BYTES)
  if (bytes.byteLength < BATCH_HEADER_BYTES) {
    return `file ends at ${position + bytes.byteLength}, inside the batch header at ${position}`
  }
  let header
  try {
    header = readBatchHeader(bytes)
  } catch (error) {
    if (isSluiceError(error, 'SLUICE_ERR_CORRUPT_BATCH')) return `at ${position}: ${error.message}`
    throw error
  }
  if (header.sizeBytes > remaining) {
    return `torn tail: the batch at ${position} declares ${header.sizeBytes} bytes, ` +
      `${remaining} remain`
  }
  return {
    position,
    sizeBytes: header.sizeBytes,
    baseOffset: header.baseOffset,
    lastOffset: header.baseOffset + header.lastOffsetDelta,
    maxTimestamp: header.maxTimestamp,
    crc: header.crc,
    codec: header.codec,
  }
}

/** Streams the CRC-32C of a batch through the window; null when it matches. */
export function batchCrcProblem(window: FileWindow, span: BatchSpan): string | null {
  if (span.codec > Codec.zstd) return `batch at ${span.position}: unknown codec ${span.codec}`
  const end = span.position + span.sizeBytes
  let state: number | undefined
  for (let at = span.position + CRC_START; at < end;) {
    const length = Math.min(window.capacityBytes, end - at)
    const chunk = window.view(at, length)
    if (chunk.byteLength < length) return `file ends inside the batch at ${span.position}`
    state = crc32c(chunk, state)
    at += length
  }
  const actual = (state ?? 0) >>> 0
  if (actual === span.crc) return null
  return `corrupt batch at ${span.position}: CRC-32C mismatch, stored ${hex(span.crc)}, ` +
    `computed ${hex(actual)}`
}

/**
 * From `startPosition`, the position of the first batch whose last offset ≥ `offset`, or null
 * when the walk reaches `endPosition`. A bad header below `endPosition` is corruption of bytes
 * the caller trusts: it throws SLUICE_ERR_CORRUPT_BATCH.
 */
export function findBatchPosition(
  window: FileWindow, startPosition: number, endPosition: number, offset: number,
): number | null {
  return findSpan(window, startPosition, endPosition, (span) => span.lastOffset >= offset)
    ?.position ?? null
}

/** Walks spans from `startPosition`; returns the first for which `found` is true, else null.
 *  Like findBatchPosition, a bad header below `endPosition` throws SLUICE_ERR_CORRUPT_BATCH. */
export function findSpan(
  window: FileWindow, startPosition: number, endPosition: number,
  found: (span: BatchSpan) => boolean,
): BatchSpan | null {
  for (let position = startPosition; position < endPosition;) {
    const span = readSpan(window, position, endPosition)
    if (typeof span === 'string') throw corruptBatch(span)
    if (found(span)) return span
    position += span.sizeBytes
  }
  return null
}

/**
 * Whole batches from `position` (a batch start) up to `maxBytes`, but at least one batch, never
 * past `endPosition`. `read(position, length)` must return exactly `length` bytes. Each length
 * read from the file is checked against the bytes left before it is used.
 */
export function readWholeBatches(
  read: (position: number, length: number) => Buffer,
  position: number, maxBytes: number, endPosition: number,
): Buffer {
  const available = endPosition - position
  if (available <= 0) return Buffer.alloc(0)
  if (available < BATCH_HEADER_BYTES) {
    throw corruptBatch(`${available} bytes at ${position}, less than a batch header`)
  }
  const bytes = read(position, Math.min(available, Math.max(maxBytes, BATCH_LENGTH_PREFIX_BYTES)))
  let cut = 0
  while (cut + BATCH_LENGTH_PREFIX_BYTES <= bytes.byteLength) {
    const size = bytes.readInt32BE(cut + Field.batchLength) + BATCH_LENGTH_PREFIX_BYTES
    if (size < BATCH_HEADER_BYTES || size > available - cut) {
      throw corruptBatch(`batch at ${position + cut} declares ${size} bytes, ` +
        `${available - cut} remain in the segment`)
    }
    if (cut + size > bytes.byteLength) break
    cut += size
  }
  if (cut > 0) return bytes.subarray(0, cut)
  const firstSize = bytes.readInt32BE(Field.batchLength) + BATCH_LENGTH_PREFIX_BYTES
  return read(position, firstSize)
}

/** The result of a full scan of one segment (headers, CRCs, offset continuity). */
export interface SegmentScan {
  /** Bytes from the start that hold valid, contiguous batches. */
  validBytes: number
  batches: number
  nextOffset: number
  maxTimestamp: number
  /** Why the scan stopped before the end of the file; null when every byte is valid. */
  problem: string | null
  offsetEntries: OffsetIndexEntry[]
  timeEntries: TimeIndexEntry[]
  indexer: SegmentIndexer
}

/** `stopAtOffset`: batches from this offset on are cut off as unacknowledged (see recovery). */
export function scanSegment(
  window: FileWindow, sizeBytes: number, baseOffset: number, indexIntervalBytes: number,
  stopAtOffset = Number.POSITIVE_INFINITY,
): SegmentScan {
  const indexer = new SegmentIndexer(indexIntervalBytes)
  const scan: SegmentScan = {
    validBytes: 0, batches: 0, nextOffset: baseOffset, maxTimestamp: -1, problem: null,
    offsetEntries: [], timeEntries: [], indexer,
  }
  while (scan.validBytes < sizeBytes) {
    const span = readSpan(window, scan.validBytes, sizeBytes)
    if (typeof span === 'string') {
      scan.problem = span
      break
    }
    if (span.baseOffset !== scan.nextOffset) {
      scan.problem = `batch at ${span.position} has baseOffset ${span.baseOffset}, ` +
        `expected ${scan.nextOffset}`
      break
    }
    if (span.baseOffset >= stopAtOffset) {
      scan.problem = `batch at ${span.position} (offset ${span.baseOffset}) was written by an ` +
        'append that failed, so it was never acknowledged'
      break
    }
    const crcProblem = batchCrcProblem(window, span)
    if (crcProblem !== null) {
      scan.problem = crcProblem
      break
    }
    const { offsetEntry, timeEntry } = indexer.add(span)
    if (offsetEntry !== null) scan.offsetEntries.push(offsetEntry)
    if (timeEntry !== null) scan.timeEntries.push(timeEntry)
    scan.maxTimestamp = Math.max(scan.maxTimestamp, span.maxTimestamp)
    scan.validBytes += span.sizeBytes
    scan.nextOffset = span.lastOffset + 1
    scan.batches++
  }
  return scan
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`
}
