/**
 * Recovery of one segment, two ways (recovery.ts decides which applies):
 *
 * - trustSegment: the cheap check for segments below the recovery point or after a clean
 *   shutdown. Reads the last entry of each index, walks batch headers (no CRC) from the batch the
 *   last offset entry names to the end of the file, and requires that the walk lands exactly on
 *   the file's end, that offsets are contiguous, that the index rule wanted no entry after the
 *   last one (else the index is short), and that the segment ends where its successor starts.
 *   Cost: two small reads plus ~indexIntervalBytes of headers, whatever the segment's size.
 * - scanAndRepair: the full check. Verifies every batch (header, length, CRC-32C, offsets),
 *   truncates at the first bad byte, recomputes both indexes with the index rule and rewrites any
 *   index file whose bytes differ, naming why.
 */
import * as path from 'node:path'
import type { FileHandle, FileSystem } from '../io/file-system.js'
import { type FileWindow, readSpan, scanSegment } from './batch-scanner.js'
import {
  OFFSET_ENTRY_BYTES, TIME_ENTRY_BYTES, decodeOffsetIndex, encodeOffsetEntries,
  encodeTimeEntries, type IndexerState,
} from './offset-index.js'
import { segmentFileName, segmentPath, type SegmentFileKind } from './segment-files.js'
import type { PartitionLogConfig, RecoveryReport } from './types.js'

export interface RecoveredSegment {
  baseOffset: number
  sizeBytes: number
  nextOffset: number
  maxTimestamp: number
  indexer: IndexerState
  /** Bytes were cut off the end of the file. */
  truncated: boolean
}

export interface SegmentCheckContext {
  fs: FileSystem
  dir: string
  config: PartitionLogConfig
  report: RecoveryReport
  /** Offsets from here on were never acknowledged (a failed append wrote them): cut them. */
  stopAtOffset: number
}

interface LastEntries {
  offsetEntry: { offset: number; position: number } | null
  timeEntry: { timestamp: number; offset: number } | null
}

/** The segment as found, or why it cannot be trusted without a full scan. */
export function trustSegment(
  context: SegmentCheckContext, window: FileWindow, baseOffset: number, sizeBytes: number,
  expectedNextOffset: number | null, wholeIndex: boolean,
): RecoveredSegment | string {
  const entries = readLastEntries(context, baseOffset, sizeBytes, wholeIndex)
  if (typeof entries === 'string') return entries
  const interval = context.config.indexIntervalBytes
  let position = entries.offsetEntry?.position ?? 0
  let nextOffset = baseOffset
  let bytesSinceEntry = 0
  let walkMaxTimestamp = -1
  let walkMaxOffset = -1
  let first = true
  while (position < sizeBytes) {
    const span = readSpan(window, position, sizeBytes)
    if (typeof span === 'string') return `tail check failed: ${span}`
    if (first && entries.offsetEntry !== null && span.lastOffset !== entries.offsetEntry.offset) {
      return `last index entry names offset ${entries.offsetEntry.offset}, the batch at ` +
        `${position} ends at ${span.lastOffset}`
    }
    if (!first && span.baseOffset !== nextOffset) {
      return `batch at ${position} has baseOffset ${span.baseOffset}, expected ${nextOffset}`
    }
    if (first && position === 0 && span.baseOffset !== baseOffset) {
      return `first batch has baseOffset ${span.baseOffset}, the file name says ${baseOffset}`
    }
    if (!first && bytesSinceEntry > interval) {
      return `offset index is short: no entry at ${position}`
    }
    if (span.maxTimestamp > walkMaxTimestamp) {
      walkMaxTimestamp = span.maxTimestamp
      walkMaxOffset = span.lastOffset
    }
    bytesSinceEntry += span.sizeBytes
    nextOffset = span.lastOffset + 1
    position += span.sizeBytes
    first = false
  }
  if (expectedNextOffset !== null && nextOffset !== expectedNextOffset) {
    return `segment ends at offset ${nextOffset}, expected ${expectedNextOffset}`
  }
  const timeEntry = entries.timeEntry
  if (timeEntry !== null && (timeEntry.offset < baseOffset || timeEntry.offset >= nextOffset)) {
    return `last time index entry names offset ${timeEntry.offset}, outside the segment`
  }
  const lastTimeEntryTimestamp = timeEntry?.timestamp ?? -1
  const walkWins = walkMaxTimestamp > lastTimeEntryTimestamp
  return {
    baseOffset,
    sizeBytes,
    nextOffset,
    maxTimestamp: Math.max(walkMaxTimestamp, lastTimeEntryTimestamp),
    indexer: {
      bytesSinceEntry,
      maxTimestamp: Math.max(walkMaxTimestamp, lastTimeEntryTimestamp),
      offsetOfMaxTimestamp: walkWins ? walkMaxOffset : timeEntry?.offset ?? -1,
      lastTimeEntryTimestamp,
    },
    truncated: false,
  }
}

function readLastEntries(
  context: SegmentCheckContext, baseOffset: number, sizeBytes: number, wholeIndex: boolean,
): LastEntries | string {
  const { fs, dir } = context
  const offsetTail = readTail(fs, segmentPath(dir, baseOffset, 'index'), OFFSET_ENTRY_BYTES,
    wholeIndex)
  if (typeof offsetTail === 'string') return `offset index ${offsetTail}`
  let offsetEntry: LastEntries['offsetEntry'] = null
  if (wholeIndex) {
    const { index, problem } = decodeOffsetIndex(offsetTail, baseOffset, sizeBytes)
    if (problem !== null) return `offset index: ${problem}`
    offsetEntry = index.count === 0 ? null : index.entry(index.count - 1)
  } else if (offsetTail.byteLength > 0) {
    const relative = offsetTail.readInt32BE(0)
    const position = offsetTail.readInt32BE(4)
    if (relative < 0 || position < 0 || position >= sizeBytes) {
      return `last offset index entry (${relative}, ${position}) lies outside the segment`
    }
    offsetEntry = { offset: baseOffset + relative, position }
  }
  const timeTail = readTail(fs, segmentPath(dir, baseOffset, 'timeindex'), TIME_ENTRY_BYTES, false)
  if (typeof timeTail === 'string') return `time index ${timeTail}`
  let timeEntry: LastEntries['timeEntry'] = null
  if (timeTail.byteLength > 0) {
    const timestamp = Number(timeTail.readBigInt64BE(0))
    if (timestamp < 0) return `last time index entry has timestamp ${timestamp}`
    timeEntry = { timestamp, offset: baseOffset + timeTail.readInt32BE(8) }
  }
  return { offsetEntry, timeEntry }
}

/** The last entry of an index file (or all of it), or what is wrong with the file's size. */
function readTail(
  fs: FileSystem, filePath: string, entryBytes: number, whole: boolean,
): Buffer | string {
  const size = fs.stat(filePath)?.size
  if (size === undefined) return 'is missing'
  if (size % entryBytes !== 0) return `size ${size} is not a multiple of ${entryBytes}`
  const length = whole ? size : Math.min(size, entryBytes)
  const bytes = Buffer.alloc(length)
  if (length === 0) return bytes
  const handle = fs.open(filePath, 'read')
  try {
    let filled = 0
    while (filled < length) {
      const read = fs.read(handle, bytes, filled, length - filled, size - length + filled)
      if (read === 0) return `ended early at ${size - length + filled}`
      filled += read
    }
  } finally {
    fs.close(handle)
  }
  return bytes
}

/** Full scan; truncates at the first bad byte and rewrites indexes that differ. */
export function scanAndRepair(
  context: SegmentCheckContext, window: FileWindow, handle: FileHandle, baseOffset: number,
  sizeBytes: number, isLast: boolean,
): RecoveredSegment {
  const { fs, config, report } = context
  const scan = scanSegment(window, sizeBytes, baseOffset, config.indexIntervalBytes,
    context.stopAtOffset)
  report.segmentsScanned++
  report.batchesScanned += scan.batches
  report.bytesScanned += scan.validBytes
  const truncated = scan.problem !== null
  if (truncated) {
    fs.truncate(handle, scan.validBytes)
    window.invalidate()
    report.truncations.push({
      segment: segmentFileName(baseOffset, 'log'),
      fromPosition: scan.validBytes,
      bytesRemoved: sizeBytes - scan.validBytes,
      reason: scan.problem!,
    })
  }
  const indexer = scan.indexer.snapshot
  if (!isLast && !truncated) {
    const sealEntry = scan.indexer.seal()
    if (sealEntry !== null) scan.timeEntries.push(sealEntry)
  }
  repairIndex(context, baseOffset, 'index', encodeOffsetEntries(baseOffset, scan.offsetEntries))
  repairIndex(context, baseOffset, 'timeindex', encodeTimeEntries(baseOffset, scan.timeEntries))
  if (config.durability !== 'memory') fs.fdatasync(handle)
  return {
    baseOffset,
    sizeBytes: scan.validBytes,
    nextOffset: scan.nextOffset,
    maxTimestamp: scan.maxTimestamp,
    indexer,
    truncated,
  }
}

/** Rewrites an index file unless it already holds exactly `expected`; reports why. */
function repairIndex(
  context: SegmentCheckContext, baseOffset: number, kind: SegmentFileKind, expected: Buffer,
): void {
  const { fs, dir, report } = context
  const filePath = segmentPath(dir, baseOffset, kind)
  const actual = fs.readFile(filePath)
  if (actual !== null && actual.equals(expected)) return
  let reason: string
  if (actual === null) {
    reason = 'missing'
  } else if (actual.byteLength < expected.byteLength
    && expected.subarray(0, actual.byteLength).equals(actual)) {
    reason = `short: ${actual.byteLength} of ${expected.byteLength} bytes`
  } else if (expected.byteLength < actual.byteLength
    && actual.subarray(0, expected.byteLength).equals(expected)) {
    reason = `holds ${actual.byteLength - expected.byteLength} bytes of entries past the last ` +
      'valid batch'
  } else {
    reason = 'inconsistent with the segment'
  }
  fs.writeFileAtomic(filePath, expected)
  report.indexesRebuilt.push({ segment: path.basename(filePath), reason })
}
