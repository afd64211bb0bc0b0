/**
 * Hadoop's SequenceFile, version 6, uncompressed — what Flume's default `hdfs.fileType =
 * SequenceFile` writes (HDFSSequenceFile over SequenceFile.Writer with CompressionType.NONE):
 *
 *   header   'S' 'E' 'Q' 0x06
 *            Text  key class    vint length + UTF-8   "org.apache.hadoop.io.LongWritable"
 *            Text  value class                        ".BytesWritable" (writeFormat Writable)
 *                                                     or ".Text"       (writeFormat Text)
 *            u8    compressed = 0,  u8 blockCompressed = 0
 *            i32   metadata entries = 0
 *            16    sync marker (random per file)
 *   record   i32 recordLength (key + value bytes), i32 keyLength = 8,
 *            key   LongWritable: i64 big-endian — the `timestamp` header, else the clock
 *            value BytesWritable: i32 length + body   |   Text: vint length + body
 *   sync     i32 -1, then the 16-byte marker; written before a record once the file has grown
 *            SYNC_INTERVAL_BYTES past the last one (Hadoop 2's 100 × 20 bytes), so a reader can
 *            resynchronise inside a file
 *
 * All integers big-endian (java.io.DataOutput); vint is Hadoop's WritableUtils zero-compressed
 * encoding. The decoder checks every length against the bytes that remain before it reads, and
 * reports the longest prefix that ends on a whole record: the part of a file a crash left that
 * Hadoop's reader can read to the end.
 */
import { randomBytes } from 'node:crypto'
import { assert } from '../../../errors.js'
import type { FlowEvent } from '../../event.js'

export type SequenceWriteFormat = 'Writable' | 'Text'

export const SEQUENCE_MAGIC = Buffer.from([0x53, 0x45, 0x51, 0x06])
export const LONG_WRITABLE = 'org.apache.hadoop.io.LongWritable'
export const BYTES_WRITABLE = 'org.apache.hadoop.io.BytesWritable'
export const TEXT_WRITABLE = 'org.apache.hadoop.io.Text'
export const SYNC_MARKER_BYTES = 16
const SYNC_ESCAPE = -1
export const SYNC_INTERVAL_BYTES = 100 * (4 + SYNC_MARKER_BYTES)
/** Longest class name a header may carry before the decoder calls it garbage. */
const MAX_CLASS_NAME_BYTES = 1024

export interface SequenceRecord {
  key: bigint
  value: Buffer
}

/** Hadoop WritableUtils.writeVLong. */
export function encodeVInt(value: number): Buffer {
  if (value >= -112 && value <= 127) return Buffer.from([value & 0xff])
  let magnitude = BigInt(value)
  let first = -112
  if (magnitude < 0n) {
    magnitude = ~magnitude
    first = -120
  }
  const bytes: number[] = []
  for (let rest = magnitude; rest !== 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn))
  return Buffer.from([(first - bytes.length) & 0xff, ...bytes])
}

/** Hadoop WritableUtils.readVLong; null when the bytes end first. */
export function decodeVInt(bytes: Buffer, offset: number): { value: number; size: number } | null {
  if (offset >= bytes.length) return null
  const first = (bytes[offset]! << 24) >> 24
  if (first >= -112) return { value: first, size: 1 }
  const negative = first < -120
  const size = negative ? -119 - first : -111 - first
  if (offset + size > bytes.length) return null
  let magnitude = 0n
  for (let i = 1; i < size; i++) magnitude = (magnitude << 8n) | BigInt(bytes[offset + i]!)
  return { value: Number(negative ? ~magnitude : magnitude), size }
}

function writableString(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8')
  return Buffer.concat([encodeVInt(utf8.length), utf8])
}

export function sequenceHeader(format: SequenceWriteFormat, sync: Buffer): Buffer {
  assert(sync.length === SYNC_MARKER_BYTES, 'a sync marker is 16 bytes')
  return Buffer.concat([SEQUENCE_MAGIC, writableString(LONG_WRITABLE),
    writableString(format === 'Text' ? TEXT_WRITABLE : BYTES_WRITABLE),
    Buffer.from([0, 0, 0, 0, 0, 0]), sync])
}

/** The key Flume's serializers give an event: its timestamp header, else the clock. */
export function eventKey(event: FlowEvent, nowMs: () => number): bigint {
  const header = event.headers.timestamp
  if (header !== undefined && /^-?\d+$/.test(header.trim())) return BigInt(header.trim())
  return BigInt(nowMs())
}

/**
 * A record's bytes up to its body: record length, key length, key, the value's length prefix.
 * The body follows as a buffer of its own, so writing a record never copies it.
 */
export function encodeRecordHead(key: bigint, bodyBytes: number, format: SequenceWriteFormat)
  : Buffer {
  const valuePrefix = format === 'Text' ? encodeVInt(bodyBytes) : null
  const prefixBytes = valuePrefix === null ? 4 : valuePrefix.length
  const head = Buffer.allocUnsafe(16 + prefixBytes)
  head.writeInt32BE(8 + prefixBytes + bodyBytes, 0)
  head.writeInt32BE(8, 4)
  head.writeBigInt64BE(BigInt.asIntN(64, key), 8)
  if (valuePrefix === null) head.writeInt32BE(bodyBytes, 16)
  else valuePrefix.copy(head, 16)
  return head
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4)
  bytes.writeInt32BE(value, 0)
  return bytes
}

/** Writes one SequenceFile: the header at open, then records batch by batch. */
export class SequenceFileWriter {
  readonly sync = randomBytes(SYNC_MARKER_BYTES)
  private positionBytes = 0
  private lastSyncBytes = 0
  private pending: Buffer[] = []
  private pendingStart = { positionBytes: 0, lastSyncBytes: 0 }

  constructor(private readonly format: SequenceWriteFormat,
    private readonly nowMs: () => number) {}

  header(): Buffer {
    const header = sequenceHeader(this.format, this.sync)
    this.positionBytes = header.length
    this.pendingStart = { positionBytes: this.positionBytes, lastSyncBytes: 0 }
    return header
  }

  append(event: FlowEvent): void {
    // Hadoop's checkAndWriteSync: a sync point before the record once the interval is passed.
    if (this.positionBytes >= this.lastSyncBytes + SYNC_INTERVAL_BYTES) {
      const marker = Buffer.concat([int32(SYNC_ESCAPE), this.sync])
      this.pending.push(marker)
      this.positionBytes += marker.length
      this.lastSyncBytes = this.positionBytes
    }
    const head = encodeRecordHead(eventKey(event, this.nowMs), event.body.length, this.format)
    this.pending.push(head, event.body)
    this.positionBytes += head.length + event.body.length
  }

  takeBatch(): Buffer[] {
    const batch = this.pending
    this.pending = []
    this.pendingStart = { positionBytes: this.positionBytes, lastSyncBytes: this.lastSyncBytes }
    return batch
  }

  dropBatch(): void {
    this.pending = []
    this.positionBytes = this.pendingStart.positionBytes
    this.lastSyncBytes = this.pendingStart.lastSyncBytes
  }
}

export interface DecodedSequenceFile {
  keyClass: string
  valueClass: string
  sync: Buffer
  records: SequenceRecord[]
  /** Bytes up to the end of the last whole record (or of the header when there is none). */
  validBytes: number
  /** Why decoding stopped before the end, or null when every byte was read. */
  stoppedAt: string | null
}

function readClassName(bytes: Buffer, offset: number): { name: string; next: number } | null {
  const length = decodeVInt(bytes, offset)
  if (length === null || length.value < 0 || length.value > MAX_CLASS_NAME_BYTES) return null
  const start = offset + length.size
  if (start + length.value > bytes.length) return null
  return { name: bytes.toString('utf8', start, start + length.value), next: start + length.value }
}

function decodeHeader(bytes: Buffer)
  : { keyClass: string; valueClass: string; sync: Buffer; end: number } | string {
  if (bytes.length < 4 || !bytes.subarray(0, 4).equals(SEQUENCE_MAGIC)) {
    return 'not a version 6 SequenceFile (magic SEQ\\x06)'
  }
  const key = readClassName(bytes, 4)
  const value = key === null ? null : readClassName(bytes, key.next)
  if (key === null || value === null) return 'header class names are torn or too long'
  const flagsAt = value.next
  if (flagsAt + 6 + SYNC_MARKER_BYTES > bytes.length) return 'header is torn'
  if (bytes[flagsAt] !== 0 || bytes[flagsAt + 1] !== 0) return 'file is compressed'
  if (bytes.readInt32BE(flagsAt + 2) !== 0) return 'header carries metadata'
  const syncAt = flagsAt + 6
  return { keyClass: key.name, valueClass: value.name,
    sync: Buffer.from(bytes.subarray(syncAt, syncAt + SYNC_MARKER_BYTES)),
    end: syncAt + SYNC_MARKER_BYTES }
}

function decodeValue(bytes: Buffer, start: number, length: number, valueClass: string)
  : Buffer | null {
  if (valueClass === BYTES_WRITABLE) {
    if (length < 4 || bytes.readInt32BE(start) !== length - 4) return null
    return Buffer.from(bytes.subarray(start + 4, start + length))
  }
  const size = decodeVInt(bytes.subarray(start, start + length), 0)
  if (size === null || size.value !== length - size.size) return null
  return Buffer.from(bytes.subarray(start + size.size, start + length))
}

/** Decodes a whole file's bytes; stops (and says why) at the first record that is not whole. */
export function decodeSequenceFile(bytes: Buffer): DecodedSequenceFile | string {
  const header = decodeHeader(bytes)
  if (typeof header === 'string') return header
  const { keyClass, valueClass, sync } = header
  if (keyClass !== LONG_WRITABLE || (valueClass !== BYTES_WRITABLE &&
    valueClass !== TEXT_WRITABLE)) return `unexpected classes ${keyClass} / ${valueClass}`
  const records: SequenceRecord[] = []
  let offset = header.end
  let validBytes = offset
  let stoppedAt: string | null = null
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) { stoppedAt = 'torn record length'; break }
    const recordLength = bytes.readInt32BE(offset)
    if (recordLength === SYNC_ESCAPE) {
      const marker = bytes.subarray(offset + 4, offset + 4 + SYNC_MARKER_BYTES)
      if (!marker.equals(sync)) { stoppedAt = 'sync marker torn or not this file\'s'; break }
      offset += 4 + SYNC_MARKER_BYTES
      validBytes = offset
      continue
    }
    if (offset + 8 > bytes.length) { stoppedAt = 'torn key length'; break }
    const keyLength = bytes.readInt32BE(offset + 4)
    if (keyLength !== 8 || recordLength < 8) { stoppedAt = 'bad record or key length'; break }
    if (offset + 8 + recordLength > bytes.length) { stoppedAt = 'torn record'; break }
    const value = decodeValue(bytes, offset + 16, recordLength - 8, valueClass)
    if (value === null) { stoppedAt = 'value length disagrees with record length'; break }
    records.push({ key: bytes.readBigInt64BE(offset + 8), value })
    offset += 8 + recordLength
    validBytes = offset
  }
  return { keyClass, valueClass, sync, records, validBytes, stoppedAt }
}
