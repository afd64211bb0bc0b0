/**
 * Shapes shared by the log room: a partition log's configuration, the clock it reads, what it
 * tells callers about segments, appends and recoveries. Everything here is plain data that
 * survives structured clone, because recovery reports cross from the background pool to a shard.
 */
import { SluiceError } from '../errors.js'
import { BATCH_HEADER_BYTES } from '../format/batch-header.js'
import type { IndexerState } from './offset-index.js'

export type Durability = 'fsync' | 'os' | 'memory'

export interface PartitionLogConfig {
  /** Roll the active segment before a batch that would take it past this size. */
  segmentBytes: number
  /** Roll a non-empty active segment once it is this old (by the log's clock). */
  segmentMs: number
  /** Delete sealed segments whose newest timestamp is older than this; -1 keeps forever. */
  retentionMs: number
  /** Delete oldest sealed segments while the log is bigger than this; -1 = unbounded. */
  retentionBytes: number
  durability: Durability
  /** Bytes appended between two entries of the sparse offset index (Kafka's 4096). */
  indexIntervalBytes: number
  /** Largest batch accepted by append. */
  maxMessageBytes: number
}

/** Every time-based policy reads this, so tests can fake time. */
export interface Clock {
  nowMs(): number
}

export const systemClock: Clock = { nowMs: () => Date.now() }

export interface SegmentInfo {
  baseOffset: number
  sizeBytes: number
  /** Last offset + 1; equals baseOffset while the segment is empty. */
  nextOffset: number
  /** Path of the `.log` file. */
  path: string
  /** Newest batch maxTimestamp in the segment, -1 when none carries one. */
  maxTimestamp: number
  /** When the segment was started, for segmentMs. Segments reopened after a restart report the
   *  checkpoint's record for the active segment, else the `.log` file's mtime. */
  createdMs: number
}

/** A segment removed by retention: its files are renamed to `*.deleted`, listed here. */
export interface RetiredSegment extends SegmentInfo {
  deletedPaths: string[]
}

export interface AppendedBatch {
  baseOffset: number
  lastOffset: number
  segmentBaseOffset: number
  position: number
  sizeBytes: number
  maxTimestamp: number
}

export interface IndexEntryInfo {
  /** Last offset of the batch that starts at `position` (Kafka's OffsetIndex semantics). */
  offset: number
  position: number
  segmentBaseOffset: number
}

export interface AppendOutcome {
  batches: AppendedBatch[]
  /** A new segment was started in this call. */
  rolled: boolean
  /** Offset-index entries created by this call. */
  indexEntries: IndexEntryInfo[]
}

export interface Truncation {
  /** File name of the `.log` that was cut. */
  segment: string
  fromPosition: number
  bytesRemoved: number
  reason: string
}

export interface DroppedSegment {
  segment: string
  sizeBytes: number
  reason: string
}

export interface RebuiltIndex {
  /** File name of the `.index` or `.timeindex` rewritten. */
  segment: string
  reason: string
}

export type CheckpointStatus = 'valid' | 'missing' | 'invalid'

export interface RecoveryReport {
  dir: string
  /** The clean-shutdown marker and a valid checkpoint were found and every tail check passed,
   *  so no segment needed a full scan. */
  clean: boolean
  checkpoint: CheckpointStatus
  /** Why the checkpoint or the clean path could not be trusted, when it could not. */
  notes: string[]
  segmentsScanned: number
  batchesScanned: number
  bytesScanned: number
  truncations: Truncation[]
  segmentsDropped: DroppedSegment[]
  indexesRebuilt: RebuiltIndex[]
  /** Leftover `*.deleted`, `*.tmp` and orphan index files removed. */
  leftoversDeleted: string[]
  logStartOffset: number
  logEndOffset: number
  /** Everything below this offset is on stable storage (it becomes the new checkpoint). */
  recoveryPointOffset: number
  durationMs: number
  /** The segments as recovered, oldest first; PartitionLog.open starts from these. */
  segments: SegmentInfo[]
  /** Where the active segment's index rule stands, so appends continue it exactly. */
  activeIndexer: IndexerState
}

const INT32_MAX = 0x7fffffff

/** Throws SLUICE_ERR_INVALID_CONFIG naming the first value out of range. */
export function validateLogConfig(config: PartitionLogConfig): void {
  const checks: [keyof PartitionLogConfig, number, number][] = [
    ['segmentBytes', 1, INT32_MAX],
    ['segmentMs', 1, Number.MAX_SAFE_INTEGER],
    ['retentionMs', -1, Number.MAX_SAFE_INTEGER],
    ['retentionBytes', -1, Number.MAX_SAFE_INTEGER],
    ['indexIntervalBytes', 0, INT32_MAX],
    ['maxMessageBytes', BATCH_HEADER_BYTES, INT32_MAX],
  ]
  for (const [name, min, max] of checks) {
    const value = config[name]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
        `log config ${name} = ${String(value)} is outside [${min}, ${max}]`)
    }
  }
  if (!['fsync', 'os', 'memory'].includes(config.durability)) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `log config durability = ${String(config.durability)} is not fsync, os or memory`)
  }
}
