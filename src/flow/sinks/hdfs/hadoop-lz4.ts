/**
 * `hdfs.codeC = lz4` for CompressedStream: Hadoop's Lz4Codec stream (BlockCompressorStream over
 * Lz4Compressor), which is not the LZ4 frame format — it is Hadoop's own block framing around
 * raw LZ4 blocks:
 *
 *   block   u32be uncompressed length of the block
 *           chunk+  u32be compressed length, raw LZ4 block (no frame, no checksum)
 *
 * The chunks of a block decompress, in order, to exactly its uncompressed length. Hadoop's
 * reader decompresses each chunk into a buffer of io.compression.codec.lz4.buffersize (256 KiB),
 * and its writer never feeds a chunk more than that less the codec's overhead allowance
 * (bufferSize / 255 + 16), so neither does this one. Each flushed batch ends on a block boundary
 * (Flume calls finish() at every sync), so every fsynced prefix of a file is a whole stream.
 *
 * Raw blocks come from lz4-napi's block API, which prepends a 4-byte little-endian length that
 * is stripped here (and supplied again to decompress). LZ4 blocks carry no checksum: recovery
 * keeps the longest run of blocks whose lengths fit the file and whose chunks decompress to the
 * declared length.
 */
import { compressSync, uncompressSync } from 'lz4-napi'

export const LZ4_EXTENSION = '.lz4'
export const LZ4_BUFFER_BYTES = 256 * 1024
export const LZ4_MAX_INPUT_BYTES = LZ4_BUFFER_BYTES - (Math.floor(LZ4_BUFFER_BYTES / 255) + 16)

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeUInt32BE(value, 0)
  return bytes
}

/** One block per LZ4_MAX_INPUT_BYTES of data, each a single chunk. */
export function encodeLz4Blocks(data: Buffer): Buffer[] {
  const out: Buffer[] = []
  for (let start = 0; start < data.length; start += LZ4_MAX_INPUT_BYTES) {
    const segment = data.subarray(start, Math.min(data.length, start + LZ4_MAX_INPUT_BYTES))
    const raw = compressSync(segment).subarray(4)
    out.push(u32(segment.length), u32(raw.length), raw)
  }
  return out
}

function decompressChunk(raw: Buffer, maxBytes: number): Buffer | null {
  const sized = Buffer.alloc(4 + raw.length)
  sized.writeUInt32LE(maxBytes, 0)
  raw.copy(sized, 4)
  try {
    return uncompressSync(sized)
  } catch {
    return null
  }
}

export interface DecodedBlocks {
  data: Buffer
  validBytes: number
  blocks: number
  /** Why decoding stopped before the end, or null when every byte was read. */
  stoppedAt: string | null
}

/** One block at `offset`: its data and end, or why it is not whole. */
function decodeBlock(bytes: Buffer, offset: number): { data: Buffer; end: number } | string {
  if (offset + 4 > bytes.length) return 'torn block length'
  const blockBytes = bytes.readUInt32BE(offset)
  if (blockBytes === 0) return 'empty block'
  const parts: Buffer[] = []
  let produced = 0
  let at = offset + 4
  while (produced < blockBytes) {
    if (at + 4 > bytes.length) return 'torn chunk length'
    const chunkBytes = bytes.readUInt32BE(at)
    if (chunkBytes === 0 || at + 4 + chunkBytes > bytes.length) return 'torn chunk'
    const room = Math.min(LZ4_BUFFER_BYTES, blockBytes - produced)
    const chunk = decompressChunk(bytes.subarray(at + 4, at + 4 + chunkBytes), room)
    if (chunk === null || chunk.length === 0) return 'chunk does not decompress'
    parts.push(chunk)
    produced += chunk.length
    at += 4 + chunkBytes
  }
  return { data: Buffer.concat(parts), end: at }
}

/** Walks blocks from the start; stops at the first one that is torn or does not decompress. */
export function decodeLz4Blocks(bytes: Buffer): DecodedBlocks {
  const parts: Buffer[] = []
  let offset = 0
  let stoppedAt: string | null = null
  while (offset < bytes.length) {
    const block = decodeBlock(bytes, offset)
    if (typeof block === 'string') {
      stoppedAt = `${block} at byte ${offset}`
      break
    }
    parts.push(block.data)
    offset = block.end
  }
  return { data: Buffer.concat(parts), validBytes: offset, blocks: parts.length, stoppedAt }
}
