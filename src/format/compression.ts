/**
 * The codecs of a RecordBatch's records section, synchronous (a shard compresses inline).
 *
 *   codec    id  compress                      decompress
 *   none      0  returned as is                returned as is
 *   gzip      1  node:zlib gzipSync            gunzipSync, capped by maxOutputLength
 *   snappy    2  SLUICE_ERR_UNSUPPORTED_…      SLUICE_ERR_UNSUPPORTED_COMPRESSION
 *   lz4       3  lz4-napi compressFrameSync    frame walked and sized, then decoded per block
 *   zstd      4  SLUICE_ERR_UNSUPPORTED_…      SLUICE_ERR_UNSUPPORTED_COMPRESSION
 *
 * Snappy and zstd batches are storable (the log never decodes them) but not decodable here.
 * LZ4 framing, and why its decoding is done block by block, is in lz4-frame.ts.
 *
 * Invariant: decompress either returns at most maxOutputBytes bytes or throws a SluiceError
 * (CORRUPT_BATCH for bad input, RECORD_TOO_LARGE over the cap, UNSUPPORTED_COMPRESSION).
 */
import { constants as bufferConstants } from 'node:buffer'
import { gunzipSync, gzipSync } from 'node:zlib'
import { SluiceError } from '../errors.js'
import type { CompressionName } from '../engine/types.js'
import { Codec, corruptBatch, type CodecId } from './batch-header.js'
import { lz4CompressFrame, lz4DecompressFrame } from './lz4-frame.js'

const CODEC_BY_NAME: Record<CompressionName, CodecId> = {
  none: Codec.none,
  gzip: Codec.gzip,
  lz4: Codec.lz4,
}

export function codecIdOf(name: CompressionName): CodecId {
  if (!Object.hasOwn(CODEC_BY_NAME, name)) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG', `unknown compression '${String(name)}'`)
  }
  return CODEC_BY_NAME[name]
}

export function compress(codec: number, bytes: Uint8Array): Buffer {
  const input = asBuffer(bytes)
  switch (codec) {
    case Codec.none:
      return input
    case Codec.gzip:
      return gzipSync(input)
    case Codec.lz4:
      return lz4CompressFrame(input)
    default:
      throw unsupported(codec)
  }
}

export function decompress(codec: number, bytes: Uint8Array, maxOutputBytes: number): Buffer {
  const input = asBuffer(bytes)
  switch (codec) {
    case Codec.none:
      if (input.byteLength > maxOutputBytes) throw tooLarge('records', maxOutputBytes)
      return input
    case Codec.gzip:
      return gunzip(input, maxOutputBytes)
    case Codec.lz4:
      return lz4DecompressFrame(input, maxOutputBytes)
    case Codec.snappy:
    case Codec.zstd:
      throw unsupported(codec)
    default:
      throw corruptBatch(`unknown compression codec ${codec}`)
  }
}

function gunzip(input: Buffer, maxOutputBytes: number): Buffer {
  // zlib wants 1 <= maxOutputLength <= kMaxLength; a cap of 0 is checked after.
  const maxOutputLength = Math.max(1, Math.min(maxOutputBytes, bufferConstants.MAX_LENGTH))
  let output: Buffer
  try {
    output = gunzipSync(input, { maxOutputLength })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge('gzip records', maxOutputBytes)
    }
    throw new SluiceError('SLUICE_ERR_CORRUPT_BATCH',
      `corrupt record batch: gzip records: ${(error as Error).message}`, { cause: error })
  }
  if (output.byteLength > maxOutputBytes) throw tooLarge('gzip records', maxOutputBytes)
  return output
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}

function unsupported(codec: number): SluiceError {
  const name = codec === Codec.snappy ? 'snappy' : codec === Codec.zstd ? 'zstd' : `#${codec}`
  return new SluiceError('SLUICE_ERR_UNSUPPORTED_COMPRESSION',
    `compression codec ${name} can be stored but not encoded or decoded by sluice`)
}

function tooLarge(what: string, maxOutputBytes: number): SluiceError {
  return new SluiceError('SLUICE_ERR_RECORD_TOO_LARGE',
    `${what} may decompress to more than maxOutputBytes (${maxOutputBytes})`)
}
