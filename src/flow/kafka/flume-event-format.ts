/**
 * `useFlumeEventFormat = true`: a Kafka record's value is one AvroFlumeEvent (flume.avdl) in
 * Avro's binary encoding, with no container header, as Flume's Kafka sink, source and channel
 * write and read it:
 *
 *   headers  map<string>: blocks of { count: long, [byteSize: long if count < 0],
 *            count × (key: string, value: string) }, ended by a count of 0
 *   body     bytes: { length: long, length bytes }
 *
 *   long = zig-zag varint (≤ 10 bytes); string / bytes = long length, then the bytes.
 *
 * avsc does the encoding and decoding. Decoding untrusted bytes first walks them here without
 * allocating: avsc trusts a map's block count and would loop on a count of 2^62 read from a
 * corrupt value (measured: it does not return), so every count and length is checked against
 * the bytes that remain before avsc sees the value.
 *
 * Invariant: decodeFlumeEvent(encodeFlumeEvent(e)) equals e, and a value that is not exactly
 * one AvroFlumeEvent is SLUICE_ERR_CORRUPT_BATCH naming what is wrong.
 */
import { SluiceError } from '../../errors.js'
import { avroFlumeEventType, type AvroFlumeEvent } from '../avro/flume-event-schema.js'
import type { FlowEvent } from '../event.js'

const MAX_VARINT_BYTES = 10
/** A varint this short holds 28 bits, read exactly in int32 arithmetic. */
const FAST_VARINT_BYTES = 4
/** The smallest map entry: an empty key and an empty value, one length byte each. */
const MIN_MAP_ENTRY_BYTES = 2

export function encodeFlumeEvent(event: FlowEvent): Buffer {
  // A FlowEvent has an AvroFlumeEvent's fields: avsc writes it as it is, no copy per event.
  const record: AvroFlumeEvent = event
  return avroFlumeEventType.toBuffer(record)
}

export function decodeFlumeEvent(value: Buffer): FlowEvent {
  checkShape(value)
  const decoded = avroFlumeEventType.fromBuffer(value) as AvroFlumeEvent
  return { headers: { ...decoded.headers }, body: Buffer.from(decoded.body) }
}

function corrupt(why: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CORRUPT_BATCH', `not an AvroFlumeEvent: ${why}`)
}

/** Walks the value, checking every count and length; throws on the first that cannot fit. */
function checkShape(value: Buffer): void {
  const reader = new LongReader(value)
  for (;;) {
    let count = reader.long('header block count')
    if (count === 0) break
    if (count < 0) {
      count = -count
      reader.length('header block size')
    }
    if (count > reader.remaining() / MIN_MAP_ENTRY_BYTES) {
      throw corrupt(`a header block of ${count} entries cannot fit in ${reader.remaining()} bytes`)
    }
    for (let i = 0; i < count; i++) {
      reader.skip(reader.length('header name length'), 'header name')
      reader.skip(reader.length('header value length'), 'header value')
    }
  }
  reader.skip(reader.length('body length'), 'body')
  if (reader.remaining() !== 0) throw corrupt(`${reader.remaining()} bytes after the body`)
}

class LongReader {
  private position = 0

  constructor(private readonly bytes: Buffer) {}

  remaining(): number {
    return this.bytes.byteLength - this.position
  }

  /** A zig-zag varint long; refused past 10 bytes or beyond a safe integer. */
  long(what: string): number {
    // Every real count and length fits in 4 bytes (|value| < 2^27): int32 arithmetic, no
    // allocation. Only a longer varint, rare, takes the exact BigInt path with its checks.
    const end = Math.min(this.position + FAST_VARINT_BYTES, this.bytes.byteLength)
    let fast = 0
    for (let at = this.position; at < end; at++) {
      const byte = this.bytes[at]!
      fast |= (byte & 0x7f) << (7 * (at - this.position))
      if ((byte & 0x80) === 0) {
        this.position = at + 1
        return (fast >>> 1) ^ -(fast & 1)
      }
    }
    return this.bigLong(what)
  }

  private bigLong(what: string): number {
    let zigzag = 0n
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.position >= this.bytes.byteLength) throw corrupt(`${what} is cut short`)
      const byte = this.bytes[this.position++]!
      zigzag |= BigInt(byte & 0x7f) << BigInt(7 * i)
      if ((byte & 0x80) === 0) {
        const decoded = (zigzag >> 1n) ^ -(zigzag & 1n)
        const limit = BigInt(Number.MAX_SAFE_INTEGER)
        if (decoded > limit || decoded < -limit) {
          throw corrupt(`${what} ${decoded} is out of range`)
        }
        return Number(decoded)
      }
    }
    throw corrupt(`${what} is a varint longer than ${MAX_VARINT_BYTES} bytes`)
  }

  /** A length: a long in [0, remaining]. */
  length(what: string): number {
    const length = this.long(what)
    if (length < 0 || length > this.remaining()) {
      throw corrupt(`${what} ${length} does not fit in the ${this.remaining()} bytes left`)
    }
    return length
  }

  skip(byteCount: number, what: string): void {
    if (byteCount > this.remaining()) throw corrupt(`${what} is cut short`)
    this.position += byteCount
  }
}
