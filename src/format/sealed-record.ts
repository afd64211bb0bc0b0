/**
 * Sealed records: the small fixed-size files and values sluice writes for itself (a partition's
 * recovery point, the file channel's take position), each a run of int64 fields under a magic
 * and a version, sealed with an xxhash64 of everything before it (DESIGN rule 2: our own bytes
 * carry xxhash64, Kafka's carry CRC-32C).
 *
 *   offset      size field (big-endian)
 *        0         4 magic
 *        4         2 version
 *        6     8 × n fields        int64 each, never negative
 *   6 + 8n         8 xxhash64 of bytes [0, 6 + 8n)
 *
 * A record that fails any check is answered with the reason, never guessed at: the caller
 * decides what distrust costs (a full scan, a replay from the start).
 *
 * xxhash-wasm compiles its WebAssembly asynchronously; this module awaits it at load time (a
 * top-level await), so every importer hashes synchronously with no init call, on any thread.
 */
import xxhash from 'xxhash-wasm'

const hasher = await xxhash()

const HEADER_BYTES = 6
const FIELD_BYTES = 8
const SEAL_BYTES = 8

export interface SealedRecordKind {
  /** What the record is, for the reasons a decode gives ("checkpoint", "take position"). */
  name: string
  magic: number
  version: number
  fieldCount: number
}

export function sealedRecordBytes(kind: SealedRecordKind): number {
  return HEADER_BYTES + kind.fieldCount * FIELD_BYTES + SEAL_BYTES
}

export function encodeSealedRecord(kind: SealedRecordKind, fields: readonly number[]): Buffer {
  if (fields.length !== kind.fieldCount) {
    throw new RangeError(`${kind.name} has ${kind.fieldCount} fields, got ${fields.length}`)
  }
  const bytes = Buffer.alloc(sealedRecordBytes(kind))
  bytes.writeUInt32BE(kind.magic, 0)
  bytes.writeUInt16BE(kind.version, 4)
  fields.forEach((field, i) => bytes.writeBigInt64BE(BigInt(field), HEADER_BYTES + i * FIELD_BYTES))
  const bodyBytes = bytes.byteLength - SEAL_BYTES
  bytes.writeBigUInt64BE(hasher.h64Raw(bytes.subarray(0, bodyBytes)), bodyBytes)
  return bytes
}

/** The record's fields, or the reason its bytes cannot be trusted. */
export function decodeSealedRecord(kind: SealedRecordKind, bytes: Uint8Array): number[] | string {
  const expectedBytes = sealedRecordBytes(kind)
  if (bytes.byteLength !== expectedBytes) {
    return `${kind.name} is ${bytes.byteLength} bytes, expected ${expectedBytes}`
  }
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const bodyBytes = expectedBytes - SEAL_BYTES
  if (buffer.readBigUInt64BE(bodyBytes) !== hasher.h64Raw(buffer.subarray(0, bodyBytes))) {
    return `${kind.name} fails its xxhash64 check`
  }
  if (buffer.readUInt32BE(0) !== kind.magic || buffer.readUInt16BE(4) !== kind.version) {
    return `${kind.name} magic or version is unknown`
  }
  const fields = Array.from({ length: kind.fieldCount },
    (_, i) => Number(buffer.readBigInt64BE(HEADER_BYTES + i * FIELD_BYTES)))
  if (fields.some((field) => field < 0)) return `${kind.name} holds a negative field`
  return fields
}
