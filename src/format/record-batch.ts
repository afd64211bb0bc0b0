/**
 * Whole RecordBatch v2 encode/decode: the 61-byte header (layout in batch-header.ts) followed by
 * the records section (layout in records.ts), compressed as one blob when the codec bits are set.
 *
 *   encodeBatch      records → one complete batch: exact size computed first, one allocation
 *                    (compressing writes the records to a reused scratch buffer first),
 *                    CRC-32C over [21, end)
 *   decodeBatch      one whole batch → header + records with absolute offsets and timestamps
 *   decodeBatches    concatenated batches (a fetch) → records at or after an offset
 *   recompressBatch  an uncompressed batch → the same batch with its records compressed
 *
 * Invariants: every byte of an encoded batch is written (the records writer asserts it ends where
 * its plan said); a batch we encode or recompress owns its ArrayBuffer (allocUnsafeSlow), so a
 * postMessage copies the batch and not a shared 8 KiB pool slab. Decoding never trusts a length
 * and raises SLUICE_ERR_CORRUPT_BATCH for anything it cannot parse; control batches (attribute
 * bit 5) hold no user records and decode to none.
 */
import { SluiceError, assert } from '../errors.js'
import type { CompressionName, StoredRecord } from '../engine/types.js'
import {
  ATTRIBUTE_CONTROL, ATTRIBUTE_LOG_APPEND_TIME, BATCH_HEADER_BYTES, BATCH_LENGTH_PREFIX_BYTES,
  BATCH_MAGIC, CODEC_MASK, Codec, Field, computeBatchCrc, readBatchHeader, readWholeBatchHeader,
  verifyBatch, type BatchHeader,
} from './batch-header.js'
import { codecIdOf, compress, decompress } from './compression.js'
import { decodeRecords, planRecords, writeRecords, type EncodableRecord } from './records.js'

/** Default cap on a batch's decompressed records section (decompression-bomb guard). */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

const INT16_MIN = -0x8000
const INT16_MAX = 0x7fff
const INT32_MIN = -0x80000000
const INT32_MAX = 0x7fffffff

export interface EncodeBatchOptions {
  compression?: CompressionName
  /** Written as is; the log rewrites it on append. Default 0. */
  baseOffset?: number
  /** Default: the first record's timestamp, as Kafka's producer does. */
  baseTimestamp?: number
  /** Idempotence fields; default −1 (not idempotent). */
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  /** Default −1 (no leader epoch yet); the log rewrites it on append. */
  partitionLeaderEpoch?: number
  /** The timestamp of records without one, in ms since the epoch. Default Date.now(). */
  now?: number
}

export interface DecodeBatchOptions {
  /** Check CRC-32C before decoding. Default true. */
  verifyCrc?: boolean
  /** Largest decompressed records section accepted. Default DEFAULT_MAX_DECOMPRESSED_BYTES. */
  maxDecompressedBytes?: number
}

export interface DecodedBatch {
  header: BatchHeader
  records: StoredRecord[]
}

export function encodeBatch(
  records: readonly EncodableRecord[], options: EncodeBatchOptions = {},
): Buffer {
  if (!Array.isArray(records) || records.length === 0) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', 'a record batch needs at least one record')
  }
  const codec = codecIdOf(options.compression ?? 'none')
  const now = checkInteger('now', options.now ?? Date.now())
  // Without an explicit base, the first record's timestamp (checked by planRecords) is it.
  const baseTimestamp = options.baseTimestamp === undefined
    ? records[0]!.timestamp ?? now
    : checkInteger('baseTimestamp', options.baseTimestamp)
  const fields = checkHeaderFields(options)
  const plan = planRecords(records, baseTimestamp, now)
  let batch: Buffer
  if (codec === Codec.none) {
    batch = Buffer.allocUnsafeSlow(BATCH_HEADER_BYTES + plan.sizeBytes)
    writeRecords(batch, BATCH_HEADER_BYTES, records, plan, baseTimestamp, now)
  } else {
    const scratch = takeScratch(plan.sizeBytes)
    const section = scratch.subarray(0, plan.sizeBytes)
    writeRecords(section, 0, records, plan, baseTimestamp, now)
    const compressed = compress(codec, section)
    releaseScratch(scratch)
    batch = Buffer.allocUnsafeSlow(BATCH_HEADER_BYTES + compressed.byteLength)
    batch.set(compressed, BATCH_HEADER_BYTES)
  }
  const view = new DataView(batch.buffer, batch.byteOffset, BATCH_HEADER_BYTES)
  view.setBigInt64(Field.baseOffset, BigInt(fields.baseOffset))
  view.setInt32(Field.batchLength, batch.byteLength - BATCH_LENGTH_PREFIX_BYTES)
  view.setInt32(Field.partitionLeaderEpoch, fields.partitionLeaderEpoch)
  view.setInt8(Field.magic, BATCH_MAGIC)
  view.setInt16(Field.attributes, codec)
  view.setInt32(Field.lastOffsetDelta, records.length - 1)
  view.setBigInt64(Field.baseTimestamp, BigInt(baseTimestamp))
  view.setBigInt64(Field.maxTimestamp, BigInt(plan.maxTimestamp))
  view.setBigInt64(Field.producerId, BigInt(fields.producerId))
  view.setInt16(Field.producerEpoch, fields.producerEpoch)
  view.setInt32(Field.baseSequence, fields.baseSequence)
  view.setInt32(Field.recordsCount, records.length)
  view.setUint32(Field.crc, computeBatchCrc(batch))
  return batch
}

/**
 * The uncompressed records of a batch being compressed are written to a reused buffer: only the
 * compressed copy is returned, and fresh memory is slow to touch on these machines. The buffer
 * is taken while in use, so a reentrant call (a getter on a record calling encodeBatch) gets its
 * own; sections above SCRATCH_KEEP_BYTES are not kept, so a rare huge batch pins no memory.
 */
const SCRATCH_KEEP_BYTES = 4 * 1024 * 1024
let idleScratch: Buffer | null = null

function takeScratch(sizeBytes: number): Buffer {
  let buffer = idleScratch
  idleScratch = null
  if (buffer === null || buffer.length < sizeBytes) {
    const preferred = Math.max(sizeBytes, 2 * (buffer?.length ?? 0))
    buffer = Buffer.allocUnsafeSlow(sizeBytes > SCRATCH_KEEP_BYTES
      ? sizeBytes
      : Math.min(SCRATCH_KEEP_BYTES, preferred))
  }
  return buffer
}

function releaseScratch(buffer: Buffer): void {
  if (buffer.length <= SCRATCH_KEEP_BYTES) idleScratch = buffer
}

interface HeaderFields {
  baseOffset: number
  partitionLeaderEpoch: number
  producerId: number
  producerEpoch: number
  baseSequence: number
}

function checkHeaderFields(options: EncodeBatchOptions): HeaderFields {
  return {
    baseOffset: checkInteger('baseOffset', options.baseOffset ?? 0),
    partitionLeaderEpoch: checkInteger('partitionLeaderEpoch', options.partitionLeaderEpoch ?? -1,
      INT32_MIN, INT32_MAX),
    producerId: checkInteger('producerId', options.producerId ?? -1),
    producerEpoch: checkInteger('producerEpoch', options.producerEpoch ?? -1, INT16_MIN, INT16_MAX),
    baseSequence: checkInteger('baseSequence', options.baseSequence ?? -1, INT32_MIN, INT32_MAX),
  }
}

/** Decodes exactly one whole batch (`batch.byteLength` must equal its declared size). */
export function decodeBatch(batch: Uint8Array, options: DecodeBatchOptions = {}): DecodedBatch {
  const bytes = asBuffer(batch)
  const header = options.verifyCrc === false ? readWholeBatchHeader(bytes) : verifyBatch(bytes)
  if ((header.attributes & ATTRIBUTE_CONTROL) !== 0) return { header, records: [] }
  let section = bytes.subarray(BATCH_HEADER_BYTES)
  if (header.codec !== Codec.none) {
    const maxBytes = options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
    section = decompress(header.codec, section, maxBytes)
  }
  const logAppendTime = (header.attributes & ATTRIBUTE_LOG_APPEND_TIME) !== 0
  const records = decodeRecords(section, {
    recordsCount: header.recordsCount,
    baseOffset: header.baseOffset,
    lastOffsetDelta: header.lastOffsetDelta,
    baseTimestamp: header.baseTimestamp,
    logAppendTimestamp: logAppendTime ? header.maxTimestamp : null,
  })
  return { header, records }
}

/**
 * Decodes the records at or after `fromOffset` in concatenated batches. Batches wholly before
 * `fromOffset` are skipped unread; a trailing partial batch (a fetch may end mid-batch) ends the
 * walk silently, but a whole batch that is corrupt throws.
 */
export function decodeBatches(
  bytes: Uint8Array, fromOffset = 0, options: DecodeBatchOptions = {},
): StoredRecord[] {
  const records: StoredRecord[] = []
  let position = 0
  while (bytes.byteLength - position >= BATCH_HEADER_BYTES) {
    const header = readBatchHeader(bytes, position)
    const end = position + header.sizeBytes
    if (end > bytes.byteLength) break
    if (header.baseOffset + header.lastOffsetDelta >= fromOffset) {
      for (const record of decodeBatch(bytes.subarray(position, end), options).records) {
        if (record.offset >= fromOffset) records.push(record)
      }
    }
    position = end
  }
  return records
}

/** Sums the recordsCount of the whole batches in `bytes`, reading headers only. */
export function countBatchRecords(bytes: Uint8Array): number {
  let count = 0
  let position = 0
  while (bytes.byteLength - position >= BATCH_HEADER_BYTES) {
    const header = readBatchHeader(bytes, position)
    if (position + header.sizeBytes > bytes.byteLength) break
    count += header.recordsCount
    position += header.sizeBytes
  }
  return count
}

/**
 * Returns `batch` (uncompressed; its CRC is checked first so a damaged batch is never blessed
 * with a fresh CRC) with the records section compressed by `codec`, the codec bits and
 * batchLength updated and a new CRC. Every other header field is kept byte for byte.
 */
export function recompressBatch(batch: Uint8Array, codec: 'gzip' | 'lz4'): Buffer {
  const source = asBuffer(batch)
  const header = verifyBatch(source)
  assert(header.codec === Codec.none, 'recompressBatch needs an uncompressed batch')
  const codecId = codecIdOf(codec)
  const compressed = compress(codecId, source.subarray(BATCH_HEADER_BYTES))
  const result = Buffer.allocUnsafeSlow(BATCH_HEADER_BYTES + compressed.byteLength)
  source.copy(result, 0, 0, BATCH_HEADER_BYTES)
  result.set(compressed, BATCH_HEADER_BYTES)
  const view = new DataView(result.buffer, result.byteOffset, BATCH_HEADER_BYTES)
  view.setInt32(Field.batchLength, result.byteLength - BATCH_LENGTH_PREFIX_BYTES)
  view.setInt16(Field.attributes, (header.attributes & ~CODEC_MASK) | codecId)
  view.setUint32(Field.crc, computeBatchCrc(result))
  return result
}

function checkInteger(
  name: string, value: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `${name} ${String(value)} must be an integer in [${min}, ${max}]`)
  }
  return value
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}
