/**
 * The log room's public face: one partition's log on disk (PartitionLog), the recovery scan that
 * can run on any thread (scanPartitionForRecovery), the reader any thread can use without a log
 * instance (SegmentFileReader), and the second step of retention (deleteRetiredFiles).
 */
export {
  PartitionLog, CHECKPOINT_INTERVAL_BYTES, type OpenPartitionLogArgs,
} from './partition-log.js'
export {
  scanPartitionForRecovery, RECOVERY_BUFFER_BYTES, type RecoveryScanArgs,
} from './recovery.js'
export { SegmentFileReader, DEFAULT_MAX_OPEN_SEGMENTS } from './segment-file-reader.js'
export { deleteRetiredFiles } from './retention.js'
export {
  CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, segmentFileName, segmentPath, type SegmentFileKind,
} from './segment-files.js'
export type { IndexerState, OffsetIndexEntry, TimeIndexEntry } from './offset-index.js'
export {
  systemClock, validateLogConfig, type AppendOutcome, type AppendedBatch, type CheckpointStatus,
  type Clock, type DroppedSegment, type Durability, type IndexEntryInfo, type PartitionLogConfig,
  type RebuiltIndex, type RecoveryReport, type RetiredSegment, type SegmentInfo, type Truncation,
} from './types.js'
