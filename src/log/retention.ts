/**
 * Retention: which sealed segments to retire, and how their files go away.
 *
 * Kafka's rules, applied oldest first and stopping at the first segment that is kept (so the log
 * stays a contiguous range of offsets):
 * - below the log start: every offset of the segment is below logStartOffset (DeleteRecords);
 * - by time: retentionMs ≥ 0 and the segment's newest timestamp (its createdMs when no batch
 *   carries one) is more than retentionMs old;
 * - by size: retentionBytes ≥ 0 and the log would still hold ≥ retentionBytes without it.
 * The active segment is never retired.
 *
 * Deletion is two steps: the owner renames the files to `*.deleted` (instant, and readers holding
 * an fd keep reading), then anyone unlinks them off the hot path (deleteRetiredFiles, which the
 * engine runs in its background pool). Recovery removes `*.deleted` files left by a crash.
 */
import type { FileSystem } from '../io/file-system.js'
import { DELETED_SUFFIX, SEGMENT_FILE_KINDS, segmentPath } from './segment-files.js'
import type { PartitionLogConfig, RetiredSegment, SegmentInfo } from './types.js'

/** How many of the oldest `sealed` segments retention retires now. */
export function countRetiredSegments(
  sealed: readonly SegmentInfo[], activeSizeBytes: number, config: PartitionLogConfig,
  logStartOffset: number, nowMs: number,
): number {
  let totalBytes = activeSizeBytes
  for (const segment of sealed) totalBytes += segment.sizeBytes
  let count = 0
  for (const segment of sealed) {
    const newestMs = segment.maxTimestamp >= 0 ? segment.maxTimestamp : segment.createdMs
    const belowStart = segment.nextOffset <= logStartOffset
    const expired = config.retentionMs >= 0 && nowMs - newestMs > config.retentionMs
    const oversized = config.retentionBytes >= 0
      && totalBytes - segment.sizeBytes >= config.retentionBytes
    if (!belowStart && !expired && !oversized) break
    totalBytes -= segment.sizeBytes
    count++
  }
  return count
}

/** Renames a sealed segment's files to `*.deleted`; returns the new paths. */
export function retireSegmentFiles(fs: FileSystem, dir: string, segment: SegmentInfo)
  : RetiredSegment {
  const deletedPaths: string[] = []
  for (const kind of SEGMENT_FILE_KINDS) {
    const from = segmentPath(dir, segment.baseOffset, kind)
    if (fs.stat(from) === null) continue
    fs.rename(from, `${from}${DELETED_SUFFIX}`)
    deletedPaths.push(`${from}${DELETED_SUFFIX}`)
  }
  return { ...segment, deletedPaths }
}

/** The second step of deletion; safe on any thread, and for paths already gone. */
export function deleteRetiredFiles(fs: FileSystem, paths: readonly string[]): void {
  for (const filePath of paths) fs.unlink(filePath)
}
