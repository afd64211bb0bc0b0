/**
 * The records section of a RecordBatch v2 (after any decompression): records back to back,
 * each one
 *
 *   length          varint   bytes of the record after this field
 *   attributes      int8     unused, written as 0
 *   timestampDelta  varlong  timestamp − batch baseTimestamp
 *   offsetDelta     varint   offset − batch baseOffset
 *   keyLength       varint   −1 = null key
 *   key             bytes
 *   valueLength     varint   −1 = null value
 *   value           bytes
 *   headerCount     varint
 *   headers         { keyLength varint, key utf8, valueLength varint (−1 = null), value }*
 *
 * Encoding is two passes: `planRecords` measures every field once (strings by their utf8
 * length) so the caller can allocate the batch exactly; `writeRecords` writes in place.
 *
 * Decoding trusts no length: each is checked against the bytes left in its record before any
 * slice or allocation, a record's fields must fill exactly its declared length, offsetDeltas
 * must increase within [0, lastOffsetDelta], and the section must hold exactly recordsCount
 * records. Keys, values and header values are zero-copy `subarray` views of the input.
 */
import { SluiceError, assert } from '../errors.js'
import type { RecordHeader, StoredRecord } from '../engine/types.js'
import { corruptBatch } from './batch-header.js'
import {
  ByteReader, varintBytes, varlongBytes, writeVarint, writeVarlong,
} from './varint.js'

export interface EncodableHeader {
  key: string
  value: Buffer | string | null
}

/** A record to encode; the engine's AppendRecord is one (its header values are Buffers). */
export interface EncodableRecord {
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: EncodableHeader[] | Record<string, Buffer | string | null>
  /** Milliseconds since the epoch; defaults to the encoder's `now`. */
  timestamp?: number
}

type FieldValue = Buffer | Uint8Array | string | null | undefined

/** The smallest record body: attributes + five one-byte varints (ts, offset, key, value, count). */
const MIN_RECORD_BODY_BYTES = 6
const MIN_RECORD_BYTES = 1 + MIN_RECORD_BODY_BYTES
const MIN_HEADER_BYTES = 2

/**
 * What `planRecords` measured. `fieldBytes` holds, per record: body length, key bytes, value
 * bytes, header count, then key/value bytes of each header (−1 for null).
 */
export interface RecordsPlan {
  sizeBytes: number
  maxTimestamp: number
  fieldBytes: number[]
}

export function planRecords(
  records: readonly EncodableRecord[], baseTimestamp: number, now: number,
): RecordsPlan {
  const fieldBytes: number[] = []
  let sizeBytes = 0
  let maxTimestamp = -Infinity
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!
    const timestamp = record.timestamp ?? now
    checkTimestamp(timestamp, index)
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
    const timestampDelta = timestamp - baseTimestamp
    if (!Number.isSafeInteger(timestampDelta)) {
      throw invalid(`record ${index} timestamp ${timestamp} is too far from ${baseTimestamp}`)
    }
    const slot = fieldBytes.length
    fieldBytes.push(0, 0, 0, 0)
    const keyBytes = measureField(record.key, index, 'key')
    const valueBytes = measureField(record.value, index, 'value')
    let bodyBytes = 1 + varlongBytes(timestampDelta) + varintBytes(index)
      + fieldSize(keyBytes) + fieldSize(valueBytes)
    const headers = record.headers
    let headerCount = 0
    if (headers !== undefined && headers !== null) {
      if (Array.isArray(headers)) {
        headerCount = headers.length
        for (let header = 0; header < headerCount; header++) {
          const { key, value } = headers[header]!
          bodyBytes += measureHeader(key, value, index, fieldBytes)
        }
      } else {
        const keys = Object.keys(headers)
        headerCount = keys.length
        for (let header = 0; header < headerCount; header++) {
          bodyBytes += measureHeader(keys[header]!, headers[keys[header]!], index, fieldBytes)
        }
      }
    }
    bodyBytes += varintBytes(headerCount)
    fieldBytes[slot] = bodyBytes
    fieldBytes[slot + 1] = keyBytes
    fieldBytes[slot + 2] = valueBytes
    fieldBytes[slot + 3] = headerCount
    sizeBytes += varintBytes(bodyBytes) + bodyBytes
    if (sizeBytes > 0x7fffffff) {
      throw new SluiceError('SLUICE_ERR_RECORD_TOO_LARGE', 'records exceed 2 GiB in one batch')
    }
  }
  return { sizeBytes, maxTimestamp, fieldBytes }
}

/** Records one header's key and value sizes in `fieldBytes`; returns its encoded size. */
function measureHeader(
  key: unknown, value: FieldValue, index: number, fieldBytes: number[],
): number {
  if (typeof key !== 'string') {
    throw invalid(`record ${index} has a header key that is not a string`)
  }
  const keyBytes = Buffer.byteLength(key, 'utf8')
  const valueBytes = measureField(value, index, 'header value')
  fieldBytes.push(keyBytes, valueBytes)
  return fieldSize(keyBytes) + fieldSize(valueBytes)
}

/** Writes the planned records at `position`; returns the position after the last one. */
export function writeRecords(
  target: Buffer, position: number, records: readonly EncodableRecord[],
  plan: RecordsPlan, baseTimestamp: number, now: number,
): number {
  const fieldBytes = plan.fieldBytes
  const start = position
  let slot = 0
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!
    position = writeVarint(target, position, fieldBytes[slot]!)
    target[position++] = 0
    position = writeVarlong(target, position, (record.timestamp ?? now) - baseTimestamp)
    position = writeVarint(target, position, index)
    position = writeField(target, position, record.key, fieldBytes[slot + 1]!)
    position = writeField(target, position, record.value, fieldBytes[slot + 2]!)
    const headerCount = fieldBytes[slot + 3]!
    position = writeVarint(target, position, headerCount)
    slot += 4
    if (headerCount > 0) {
      const headers = record.headers!
      const keys = Array.isArray(headers) ? null : Object.keys(headers)
      for (let header = 0; header < headerCount; header++) {
        let key: string
        let value: FieldValue
        if (keys === null) {
          ({ key, value } = (headers as EncodableHeader[])[header]!)
        } else {
          key = keys[header]!
          value = (headers as Record<string, FieldValue>)[key]
        }
        position = writeField(target, position, key, fieldBytes[slot]!)
        position = writeField(target, position, value, fieldBytes[slot + 1]!)
        slot += 2
      }
    }
  }
  assert(position - start === plan.sizeBytes, 'records section size differs from its plan')
  assert(slot === fieldBytes.length, 'records changed between planning and writing')
  return position
}

function measureField(value: FieldValue, index: number, field: string): number {
  if (value === null || value === undefined) return -1
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8')
  if (value instanceof Uint8Array) return value.byteLength
  throw invalid(`record ${index} ${field} must be a Buffer, a string or null`)
}

/** ASCII strings up to this length are written by a JS loop, which beats a call into C++. */
const SHORT_ASCII_CHARS = 16

function fieldSize(bytes: number): number {
  return bytes < 0 ? 1 : varintBytes(bytes) + bytes
}

function writeField(target: Buffer, position: number, value: FieldValue, bytes: number): number {
  position = writeVarint(target, position, bytes)
  if (bytes <= 0) return position
  if (typeof value === 'string') {
    // A string whose utf8 size equals its length is ASCII, and latin1 writes ASCII faster.
    const ascii = bytes === value.length
    if (ascii && bytes <= SHORT_ASCII_CHARS) {
      for (let index = 0; index < bytes; index++) target[position + index] = value.charCodeAt(index)
    } else {
      const written = target.write(value, position, bytes, ascii ? 'latin1' : 'utf8')
      assert(written === bytes, 'string changed size between planning and writing')
    }
  } else {
    assert(value instanceof Uint8Array && value.byteLength === bytes, 'field changed size')
    target.set(value, position)
  }
  return position + bytes
}

function checkTimestamp(timestamp: number, index: number): void {
  if (!Number.isSafeInteger(timestamp)) {
    throw invalid(`record ${index} timestamp ${timestamp} is not an integer of milliseconds`)
  }
}

function invalid(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_INVALID_CONFIG', message)
}

export interface RecordsContext {
  recordsCount: number
  baseOffset: number
  lastOffsetDelta: number
  baseTimestamp: number
  /** Every record's timestamp when the batch is LogAppendTime, else null. */
  logAppendTimestamp: number | null
}

/** Decodes exactly `context.recordsCount` records filling all of `section`. */
export function decodeRecords(section: Buffer, context: RecordsContext): StoredRecord[] {
  const count = context.recordsCount
  if (count > section.length / MIN_RECORD_BYTES) {
    throw corruptBatch(`recordsCount ${count} cannot fit in ${section.length} bytes of records`)
  }
  const reader = new ByteReader(section)
  const keys = new HeaderKeyCache(section)
  const records: StoredRecord[] = []
  let previousDelta = -1
  for (let index = 0; index < count; index++) {
    const record = decodeRecord(reader, section, keys, context, previousDelta)
    previousDelta = record.offset - context.baseOffset
    records.push(record)
  }
  if (reader.position !== section.length) {
    throw corruptBatch(`recordsCount ${count} records end at byte ${reader.position} ` +
      `of ${section.length}`)
  }
  return records
}

function decodeRecord(
  reader: ByteReader, section: Buffer, keys: HeaderKeyCache, context: RecordsContext,
  previousDelta: number,
): StoredRecord {
  const length = reader.readVarint('record length')
  if (length < MIN_RECORD_BODY_BYTES || length > reader.remaining) {
    throw corruptBatch(`record length ${length} at byte ${reader.position} does not fit ` +
      `the ${reader.remaining} bytes left`)
  }
  const sectionEnd = reader.end
  const recordEnd = reader.position + length
  reader.end = recordEnd
  reader.position++ // attributes: unused by Kafka, ignored
  const timestampDelta = reader.readVarlong('timestampDelta')
  const offsetDelta = reader.readVarint('offsetDelta')
  if (offsetDelta <= previousDelta || offsetDelta > context.lastOffsetDelta) {
    throw corruptBatch(`offsetDelta ${offsetDelta} after ${previousDelta} is outside ` +
      `(previous, lastOffsetDelta ${context.lastOffsetDelta}]`)
  }
  const key = readBytes(reader, section, 'key')
  const value = readBytes(reader, section, 'value')
  const headers = readHeaders(reader, section, keys)
  if (reader.position !== recordEnd) {
    throw corruptBatch(`record length ${length} leaves ${recordEnd - reader.position} bytes unread`)
  }
  reader.end = sectionEnd
  const timestamp = context.logAppendTimestamp ?? context.baseTimestamp + timestampDelta
  return { offset: context.baseOffset + offsetDelta, timestamp, key, value, headers }
}

function readBytes(reader: ByteReader, section: Buffer, field: string): Buffer | null {
  const length = reader.readVarint(field)
  if (length === -1) return null
  if (length < -1 || length > reader.remaining) {
    throw corruptBatch(`${field} length ${length} does not fit the ${reader.remaining} bytes left`)
  }
  const start = reader.position
  reader.position = start + length
  return section.subarray(start, start + length)
}

function readHeaders(reader: ByteReader, section: Buffer, keys: HeaderKeyCache): RecordHeader[] {
  const count = reader.readVarint('headerCount')
  if (count === 0) return []
  if (count < 0 || count > reader.remaining / MIN_HEADER_BYTES) {
    throw corruptBatch(`headerCount ${count} does not fit the ${reader.remaining} bytes left`)
  }
  const headers: RecordHeader[] = []
  for (let index = 0; index < count; index++) {
    const keyLength = reader.readVarint('header key')
    if (keyLength < 0 || keyLength > reader.remaining) {
      throw corruptBatch(`header key length ${keyLength} does not fit the ` +
        `${reader.remaining} bytes left`)
    }
    const keyStart = reader.position
    reader.position = keyStart + keyLength
    const key = keys.lookup(keyStart, keyLength)
    headers.push({ key, value: readBytes(reader, section, 'header value') })
  }
  return headers
}

/**
 * Header keys already decoded in this section, found again by comparing bytes: batches repeat a
 * few keys (trace ids, content types), and a short byte compare costs a fraction of a utf8
 * decode. Only short keys are kept, and only a few, so a miss stays cheap.
 */
class HeaderKeyCache {
  private static readonly maxEntries = 8
  private static readonly maxKeyBytes = 64
  private readonly section: Buffer
  private readonly starts: number[] = []
  private readonly lengths: number[] = []
  private readonly keys: string[] = []

  constructor(section: Buffer) {
    this.section = section
  }

  lookup(start: number, length: number): string {
    const section = this.section
    for (let entry = 0; entry < this.keys.length; entry++) {
      if (this.lengths[entry] !== length) continue
      const cachedStart = this.starts[entry]!
      let same = true
      for (let index = 0; index < length; index++) {
        if (section[cachedStart + index] !== section[start + index]) {
          same = false
          break
        }
      }
      if (same) return this.keys[entry]!
    }
    const key = section.toString('utf8', start, start + length)
    if (this.keys.length < HeaderKeyCache.maxEntries && length <= HeaderKeyCache.maxKeyBytes) {
      this.starts.push(start)
      this.lengths.push(length)
      this.keys.push(key)
    }
    return key
  }
}
