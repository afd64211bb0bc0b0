/**
 * `take-position.checkpoint`, the file channel's durably committed take position, kept in the
 * channel's checkpointDir:
 *
 *   offset size field (big-endian)
 *        0    4 magic "SLFC"
 *        4    2 version = 1
 *        6    8 generation   int64  the log topic in use is `channel-<generation>`
 *       14    8 takeOffset   int64  every event below it was taken and its take committed
 *       22    8 xxhash64 of bytes [0, 22)
 *       30
 *
 * A sealed record (src/format/sealed-record.ts), written atomically (temp file, fsync, rename,
 * directory fsync) by FileSystem.writeFileAtomic, so a crash leaves either the old or the new
 * position, never a torn one. A position that fails its checks is reported, never guessed at:
 * the channel then replays from the log's start (duplicates, no loss).
 */
import * as path from 'node:path'
import {
  decodeSealedRecord, encodeSealedRecord, sealedRecordBytes,
} from '../../format/sealed-record.js'
import type { FileSystem } from '../../io/file-system.js'

export const TAKE_POSITION_FILE = 'take-position.checkpoint'
const KIND = { name: 'take position', magic: 0x534c4643 /* "SLFC" */, version: 1, fieldCount: 2 }
export const TAKE_POSITION_BYTES = sealedRecordBytes(KIND)

export interface TakePosition {
  generation: number
  takeOffset: number
}

export function encodeTakePosition(position: TakePosition): Buffer {
  return encodeSealedRecord(KIND, [position.generation, position.takeOffset])
}

/** The position, or the reason the bytes cannot be trusted. */
export function decodeTakePosition(bytes: Uint8Array): TakePosition | string {
  const fields = decodeSealedRecord(KIND, bytes)
  if (typeof fields === 'string') return fields
  const [generation, takeOffset] = fields as [number, number]
  return { generation, takeOffset }
}

export function readTakePosition(fs: FileSystem, dir: string)
  : { position: TakePosition | null; problem: string | null } {
  const bytes = fs.readFile(path.join(dir, TAKE_POSITION_FILE))
  if (bytes === null) return { position: null, problem: null }
  const decoded = decodeTakePosition(bytes)
  return typeof decoded === 'string'
    ? { position: null, problem: decoded } : { position: decoded, problem: null }
}

export function writeTakePosition(fs: FileSystem, dir: string, position: TakePosition): void {
  fs.writeFileAtomic(path.join(dir, TAKE_POSITION_FILE), encodeTakePosition(position))
}
