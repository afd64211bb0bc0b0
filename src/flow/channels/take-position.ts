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
 * Written atomically (temp file, fsync, rename, directory fsync) by FileSystem.writeFileAtomic,
 * so a crash leaves either the old or the new position, never a torn one. A file that fails its
 * checksum is reported, never guessed at: the channel then replays from the log's start
 * (duplicates, no loss).
 */
import * as path from 'node:path'
import xxhash from 'xxhash-wasm'
import type { FileSystem } from '../../io/file-system.js'

const hasher = await xxhash()

export const TAKE_POSITION_FILE = 'take-position.checkpoint'
const MAGIC = 0x534c4643 // "SLFC"
const VERSION = 1
const BODY_BYTES = 22
export const TAKE_POSITION_BYTES = BODY_BYTES + 8

export interface TakePosition {
  generation: number
  takeOffset: number
}

export function encodeTakePosition(position: TakePosition): Buffer {
  const bytes = Buffer.alloc(TAKE_POSITION_BYTES)
  bytes.writeUInt32BE(MAGIC, 0)
  bytes.writeUInt16BE(VERSION, 4)
  bytes.writeBigInt64BE(BigInt(position.generation), 6)
  bytes.writeBigInt64BE(BigInt(position.takeOffset), 14)
  bytes.writeBigUInt64BE(hasher.h64Raw(bytes.subarray(0, BODY_BYTES)), BODY_BYTES)
  return bytes
}

/** The position, or the reason the bytes cannot be trusted. */
export function decodeTakePosition(bytes: Uint8Array): TakePosition | string {
  if (bytes.byteLength !== TAKE_POSITION_BYTES) {
    return `take position is ${bytes.byteLength} bytes, expected ${TAKE_POSITION_BYTES}`
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.readBigUInt64BE(BODY_BYTES) !== hasher.h64Raw(buffer.subarray(0, BODY_BYTES))) {
    return 'take position fails its xxhash64 check'
  }
  if (buffer.readUInt32BE(0) !== MAGIC || buffer.readUInt16BE(4) !== VERSION) {
    return 'take position magic or version is unknown'
  }
  const position = {
    generation: Number(buffer.readBigInt64BE(6)),
    takeOffset: Number(buffer.readBigInt64BE(14)),
  }
  if (position.generation < 0 || position.takeOffset < 0) return 'take position is negative'
  return position
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
