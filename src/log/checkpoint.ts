/**
 * `recovery-point.checkpoint`: what an unclean open may skip, and where the log starts.
 *
 *   offset size field (big-endian)
 *        0    4 magic "SLRP"
 *        4    2 version = 1
 *        6    8 recoveryPointOffset      int64  every batch below it was fdatasynced
 *       14    8 logStartOffset           int64
 *       22    8 activeSegmentBaseOffset  int64  the segment `activeSegmentCreatedMs` belongs to
 *       30    8 activeSegmentCreatedMs   int64  so segmentMs survives a restart
 *       38    8 xxhash64 of bytes [0, 38)
 *       46
 *
 * A sealed record (src/format/sealed-record.ts), written atomically (temp file, fsync, rename,
 * directory fsync) by FileSystem.writeFileAtomic. A checkpoint that fails its checks is ignored
 * (recovery then scans from the first segment), never guessed at.
 */
import * as path from 'node:path'
import {
  decodeSealedRecord, encodeSealedRecord, sealedRecordBytes,
} from '../format/sealed-record.js'
import type { FileSystem } from '../io/file-system.js'
import { CHECKPOINT_FILE } from './segment-files.js'
import type { CheckpointStatus } from './types.js'

const KIND = { name: 'checkpoint', magic: 0x534c5250 /* "SLRP" */, version: 1, fieldCount: 4 }
export const CHECKPOINT_BYTES = sealedRecordBytes(KIND)

export interface Checkpoint {
  recoveryPointOffset: number
  logStartOffset: number
  activeSegmentBaseOffset: number
  activeSegmentCreatedMs: number
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  return encodeSealedRecord(KIND, [checkpoint.recoveryPointOffset, checkpoint.logStartOffset,
    checkpoint.activeSegmentBaseOffset, checkpoint.activeSegmentCreatedMs])
}

/** The checkpoint, or the reason it cannot be trusted. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint | string {
  const fields = decodeSealedRecord(KIND, bytes)
  if (typeof fields === 'string') return fields
  const [recoveryPointOffset, logStartOffset, activeSegmentBaseOffset, activeSegmentCreatedMs] =
    fields as [number, number, number, number]
  return { recoveryPointOffset, logStartOffset, activeSegmentBaseOffset, activeSegmentCreatedMs }
}

export function readCheckpoint(fs: FileSystem, dir: string)
  : { checkpoint: Checkpoint | null; status: CheckpointStatus; problem: string | null } {
  const bytes = fs.readFile(path.join(dir, CHECKPOINT_FILE))
  if (bytes === null) return { checkpoint: null, status: 'missing', problem: 'no checkpoint file' }
  const decoded = decodeCheckpoint(bytes)
  if (typeof decoded === 'string') return { checkpoint: null, status: 'invalid', problem: decoded }
  return { checkpoint: decoded, status: 'valid', problem: null }
}

export function writeCheckpoint(fs: FileSystem, dir: string, checkpoint: Checkpoint): void {
  fs.writeFileAtomic(path.join(dir, CHECKPOINT_FILE), encodeCheckpoint(checkpoint))
}
