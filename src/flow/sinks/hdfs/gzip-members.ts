/**
 * `hdfs.codeC = gzip` for CompressedStream: one gzip member (RFC 1952) per flushed batch, as
 * Flume's HDFSCompressedDataStream does (finish() at every sync, resetState() before the next
 * write). A file is then a concatenation of members, which gunzip, zcat, Hadoop's GzipCodec and
 * Node's zlib all read as one stream, and every fsynced prefix of it is such a concatenation.
 *
 * Each member carries its own compressed length in an FEXTRA subfield, so recovery can walk a
 * file member by member without inflating to find where one ends:
 *
 *   1f 8b 08 04             magic, deflate, FLG = FEXTRA
 *   00 00 00 00  00  ff     MTIME unset, XFL, OS unknown
 *   08 00                   XLEN = 8
 *   'S' 'L' 04 00  u32le    subfield "SL", 4 bytes: length of the deflate data that follows
 *   deflate data
 *   u32le CRC-32, u32le ISIZE (uncompressed length mod 2^32)
 *
 * Readers ignore unknown subfields (RFC 1952 §2.3.1.1). Recovery keeps the longest run of
 * members whose header, length, CRC and ISIZE all check, i.e. drops a member a crash tore.
 */
import * as zlib from 'node:zlib'
import { assert } from '../../../errors.js'

export const GZIP_EXTENSION = '.gz'
const HEADER_BYTES = 20
const TRAILER_BYTES = 8
const SUBFIELD_ID = [0x53, 0x4c] as const
/** zlib's default level, which Hadoop's GzipCodec uses too. */
const LEVEL = 6

export function encodeGzipMember(data: Buffer): Buffer[] {
  const deflated = zlib.deflateRawSync(data, { level: LEVEL })
  assert(deflated.length <= 0xffff_ffff, 'a gzip member holds one batch, under 4 GiB')
  const header = Buffer.from([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff, 8, 0,
    SUBFIELD_ID[0], SUBFIELD_ID[1], 4, 0, 0, 0, 0, 0])
  header.writeUInt32LE(deflated.length, 16)
  const trailer = Buffer.alloc(TRAILER_BYTES)
  trailer.writeUInt32LE(zlib.crc32(data), 0)
  trailer.writeUInt32LE(data.length % 2 ** 32, 4)
  return [header, deflated, trailer]
}

/** The deflate length a member header declares, or null when the header is not one of ours. */
function declaredLength(bytes: Buffer, offset: number): number | null {
  if (offset + HEADER_BYTES > bytes.length) return null
  if (bytes[offset] !== 0x1f || bytes[offset + 1] !== 0x8b || bytes[offset + 2] !== 0x08 ||
    bytes[offset + 3] !== 0x04 || bytes.readUInt16LE(offset + 10) !== 8 ||
    bytes[offset + 12] !== SUBFIELD_ID[0] || bytes[offset + 13] !== SUBFIELD_ID[1] ||
    bytes.readUInt16LE(offset + 14) !== 4) return null
  return bytes.readUInt32LE(offset + 16)
}

function inflateMember(bytes: Buffer, offset: number, deflatedBytes: number): Buffer | null {
  const start = offset + HEADER_BYTES
  const trailerAt = start + deflatedBytes
  try {
    const data = zlib.inflateRawSync(bytes.subarray(start, trailerAt))
    if (zlib.crc32(data) !== bytes.readUInt32LE(trailerAt)) return null
    if (data.length % 2 ** 32 !== bytes.readUInt32LE(trailerAt + 4)) return null
    return data
  } catch {
    return null
  }
}

export interface DecodedMembers {
  data: Buffer
  validBytes: number
  members: number
  /** Why decoding stopped before the end, or null when every byte was read. */
  stoppedAt: string | null
}

/** Walks members from the start; stops at the first one that is torn or does not check. */
export function decodeGzipMembers(bytes: Buffer): DecodedMembers {
  const parts: Buffer[] = []
  let offset = 0
  let stoppedAt: string | null = null
  while (offset < bytes.length) {
    const deflatedBytes = declaredLength(bytes, offset)
    if (deflatedBytes === null) { stoppedAt = `no whole member header at byte ${offset}`; break }
    if (offset + HEADER_BYTES + deflatedBytes + TRAILER_BYTES > bytes.length) {
      stoppedAt = `member at byte ${offset} is torn`
      break
    }
    const data = inflateMember(bytes, offset, deflatedBytes)
    if (data === null) { stoppedAt = `member at byte ${offset} fails its CRC`; break }
    parts.push(data)
    offset += HEADER_BYTES + deflatedBytes + TRAILER_BYTES
  }
  return { data: Buffer.concat(parts), validBytes: offset, members: parts.length, stoppedAt }
}
