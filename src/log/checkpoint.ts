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
 * Written atomically (temp file, fsync, rename, directory fsync) by FileSystem.writeFileAtomic.
 * A checkpoint that fails its checksum is ignored (recovery then scans from the first segment),
 * never guessed at.
 *
 * xxhash-wasm compiles its WebAssembly asynchronously; this module awaits it at load time (a
 * top-level await), so by the time any importer runs, hashing is synchronous and PartitionLog.open
 * needs no hasher argument and no init call, on any thread.
 */
import * as path from 'node:path'
import xxhash from 'xxhash-wasm'
import type { FileSystem } from '../io/file-system.js'
import { CHECKPOINT_FILE } from './segment-files.js'
import type { CheckpointStatus } from './types.js'

const hasher = await xxhash()

const MAGIC = 0x534c5250 // "SLRP"
const VERSION = 1
const BODY_BYTES = 38
export const CHECKPOINT_BYTES = BODY_BYTES + 8

export interface Checkpoint {
  recoveryPointOffset: number
  logStartOffset: number
  activeSegmentBaseOffset: number
  activeSegmentCreatedMs: number
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const bytes = Buffer.alloc(CHECKPOINT_BYTES)
  bytes.writeUInt32BE(MAGIC, 0)
  bytes.writeUInt16BE(VERSION, 4)
  bytes.writeBigInt64BE(BigInt(checkpoint.recoveryPointOffset), 6)
  bytes.writeBigInt64BE(BigInt(checkpoint.logStartOffset), 14)
  bytes.writeBigInt64BE(BigInt(checkpoint.activeSegmentBaseOffset), 22)
  bytes.writeBigInt64BE(BigInt(checkpoint.activeSegmentCreatedMs), 30)
  bytes.writeBigUInt64BE(hasher.h64Raw(bytes.subarray(0, BODY_BYTES)), BODY_BYTES)
  return bytes
}

/** The checkpoint, or the reason it cannot be trusted. */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint | string {
  if (bytes.byteLength !== CHECKPOINT_BYTES) {
    return `checkpoint is ${bytes.byteLength} bytes, expected ${CHECKPOINT_BYTES}`
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const stored = buffer.readBigUInt64BE(BODY_BYTES)
  const actual = hasher.h64Raw(buffer.subarray(0, BODY_BYTES))
  if (stored !== actual) {
    return `checkpoint xxhash64 is ${hex(actual)}, file says ${hex(stored)}`
  }
  if (buffer.readUInt32BE(0) !== MAGIC || buffer.readUInt16BE(4) !== VERSION) {
    return 'checkpoint magic or version is unknown'
  }
  const checkpoint = {
    recoveryPointOffset: Number(buffer.readBigInt64BE(6)),
    logStartOffset: Number(buffer.readBigInt64BE(14)),
    activeSegmentBaseOffset: Number(buffer.readBigInt64BE(22)),
    activeSegmentCreatedMs: Number(buffer.readBigInt64BE(30)),
  }
  if (checkpoint.recoveryPointOffset < 0 || checkpoint.logStartOffset < 0) {
    return 'checkpoint holds a negative offset'
  }
  return checkpoint
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

function hex(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`
}
