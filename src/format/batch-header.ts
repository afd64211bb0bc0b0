/**
 * The fixed 61-byte header of a Kafka RecordBatch v2 (magic 2), read and checked in place.
 * This is what the log needs to store, index and recover batches without decoding records.
 *
 *   offset size field
 *        0    8 baseOffset            int64   rewritten by the log on append
 *        8    4 batchLength           int32   bytes after this field (total = batchLength + 12)
 *       12    4 partitionLeaderEpoch  int32   rewritten by the log on append (0 on one node)
 *       16    1 magic                 int8    must be 2
 *       17    4 crc                   uint32  CRC-32C of bytes [21, end)
 *       21    2 attributes            int16   bits 0-2 codec, 3 timestampType, 4 txn, 5 control
 *       23    4 lastOffsetDelta       int32
 *       27    8 baseTimestamp         int64
 *       35    8 maxTimestamp          int64
 *       43    8 producerId            int64
 *       51    2 producerEpoch         int16
 *       53    4 baseSequence          int32
 *       57    4 recordsCount          int32   never compressed
 *       61    … records
 *
 * baseOffset and partitionLeaderEpoch lie outside the CRC, so rewriting them needs no new CRC.
 */
import { crc32c } from '@node-rs/crc32'
import { SluiceError } from '../errors.js'

export const BATCH_HEADER_BYTES = 61
/** Bytes before batchLength's coverage starts: baseOffset (8) + batchLength (4). */
export const BATCH_LENGTH_PREFIX_BYTES = 12
export const BATCH_MAGIC = 2
export const CRC_START = 21

export const Field = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
} as const

export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
export type CodecId = (typeof Codec)[keyof typeof Codec]
export const CODEC_MASK = 0x07
/** Attribute bit 3: every record's timestamp is the batch's maxTimestamp (LogAppendTime). */
export const ATTRIBUTE_LOG_APPEND_TIME = 0x08
export const ATTRIBUTE_CONTROL = 0x20

export interface BatchHeader {
  baseOffset: number
  /** Whole batch size in bytes, including baseOffset and batchLength. */
  sizeBytes: number
  magic: number
  crc: number
  attributes: number
  codec: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  recordsCount: number
}

/** Reads the header at `position`, checking only what is needed to trust the lengths. */
export function readBatchHeader(bytes: Uint8Array, position = 0): BatchHeader {
  const available = bytes.byteLength - position
  if (available < BATCH_HEADER_BYTES) {
    throw corruptBatch(`batch header needs ${BATCH_HEADER_BYTES} bytes, ${available} available`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + position, BATCH_HEADER_BYTES)
  const batchLength = view.getInt32(Field.batchLength)
  const sizeBytes = batchLength + BATCH_LENGTH_PREFIX_BYTES
  if (batchLength < BATCH_HEADER_BYTES - BATCH_LENGTH_PREFIX_BYTES) {
    throw corruptBatch(`batchLength ${batchLength} is shorter than the v2 header`)
  }
  const magic = view.getInt8(Field.magic)
  if (magic !== BATCH_MAGIC) throw corruptBatch(`magic byte is ${magic}, expected ${BATCH_MAGIC}`)
  const attributes = view.getInt16(Field.attributes)
  const lastOffsetDelta = view.getInt32(Field.lastOffsetDelta)
  const recordsCount = view.getInt32(Field.recordsCount)
  if (lastOffsetDelta < 0) throw corruptBatch(`lastOffsetDelta ${lastOffsetDelta} is negative`)
  if (recordsCount < 0) throw corruptBatch(`recordsCount ${recordsCount} is negative`)
  return {
    baseOffset: Number(view.getBigInt64(Field.baseOffset)),
    sizeBytes,
    magic,
    crc: view.getUint32(Field.crc),
    attributes,
    codec: attributes & CODEC_MASK,
    lastOffsetDelta,
    baseTimestamp: Number(view.getBigInt64(Field.baseTimestamp)),
    maxTimestamp: Number(view.getBigInt64(Field.maxTimestamp)),
    recordsCount,
  }
}

/** CRC-32C of the bytes Kafka's CRC covers: from attributes to the end of the batch. */
export function computeBatchCrc(batch: Uint8Array): number {
  return crc32c(batch.subarray(CRC_START)) >>> 0
}

/**
 * Checks a whole batch (exactly `batch.byteLength` bytes): header, declared length, codec and
 * CRC. Throws SLUICE_ERR_CORRUPT_BATCH naming the first problem.
 */
export function verifyBatch(batch: Uint8Array): BatchHeader {
  const header = readWholeBatchHeader(batch)
  const actual = computeBatchCrc(batch)
  if (actual !== header.crc) {
    throw corruptBatch(`CRC-32C mismatch: stored ${hex(header.crc)}, computed ${hex(actual)}`)
  }
  return header
}

/** verifyBatch without the CRC: for bytes already checked, or a caller that opts out. */
export function readWholeBatchHeader(batch: Uint8Array): BatchHeader {
  const header = readBatchHeader(batch)
  if (header.sizeBytes !== batch.byteLength) {
    throw corruptBatch(`batchLength says ${header.sizeBytes} bytes, ` +
      `the batch has ${batch.byteLength}`)
  }
  if (header.codec > Codec.zstd) throw corruptBatch(`unknown compression codec ${header.codec}`)
  return header
}

export function writeBaseOffset(batch: Uint8Array, baseOffset: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, BATCH_HEADER_BYTES)
  view.setBigInt64(Field.baseOffset, BigInt(baseOffset))
}

export function writePartitionLeaderEpoch(batch: Uint8Array, epoch: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, BATCH_HEADER_BYTES)
  view.setInt32(Field.partitionLeaderEpoch, epoch)
}

/** The error for any batch whose bytes cannot be trusted; the message names the field. */
export function corruptBatch(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CORRUPT_BATCH', `corrupt record batch: ${message}`)
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`
}
