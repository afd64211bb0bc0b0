/**
 * Variable-length integers as Kafka writes them (protobuf's base-128 encoding).
 *
 *   varint           zig-zag int32, 1..5 bytes   record fields (lengths, offsetDelta, counts)
 *   varlong          zig-zag int64, 1..10 bytes  timestampDelta; held here as a JS number, so
 *                                                only safe integers (|value| < 2^53) are accepted
 *   unsigned varint  uint32, 1..5 bytes          the flexible protocol's compact lengths/tags
 *
 * Each byte carries 7 bits, least significant group first; the high bit says "more follows".
 * Zig-zag maps 0, -1, 1, -2 … to 0, 1, 2, 3 … so small negatives stay short.
 *
 * Writers take a caller's buffer and a position and return the next position; the `…Bytes`
 * functions give the exact encoded size so callers can size a buffer once. Readers go through
 * `ByteReader`, which never reads at or past its `end`: a truncated or over-long varint throws
 * SLUICE_ERR_CORRUPT_BATCH naming the field being read, never a RangeError. Writers assert
 * their input is in range (a caller's bug), building the message only when it fails.
 */
import { AssertionError, SluiceError, assert } from '../errors.js'
import { corruptBatch } from './batch-header.js'

const TWO_POW_27 = 2 ** 27
/** The high part of a varlong (bits 28..63) must stay below this for |value| < 2^53. */
const VARLONG_HIGH_LIMIT = 2 ** 26

/** Encoded size of a zig-zag int32. */
export function varintBytes(value: number): number {
  return unsignedVarintBytes(((value << 1) ^ (value >> 31)) >>> 0)
}

/** Encoded size of an unsigned int32. */
export function unsignedVarintBytes(value: number): number {
  if (value < 0x80) return 1
  if (value < 0x4000) return 2
  if (value < 0x200000) return 3
  if (value < 0x10000000) return 4
  return 5
}

/** Encoded size of a zig-zag int64 given as a safe integer. */
export function varlongBytes(value: number): number {
  if ((value | 0) === value) return varintBytes(value)
  // zigzag(value) >> 7 === magnitude >> 6, where magnitude excludes the sign bit.
  let rest = Math.floor((value >= 0 ? value : -value - 1) / 64)
  let size = 1
  while (rest > 0) {
    rest = Math.floor(rest / 128)
    size++
  }
  return size
}

export function writeVarint(target: Uint8Array, position: number, value: number): number {
  if ((value | 0) !== value) throw new AssertionError(`varint ${value} is not an int32`)
  return writeUnsignedVarint(target, position, ((value << 1) ^ (value >> 31)) >>> 0)
}

export function writeUnsignedVarint(target: Uint8Array, position: number, value: number): number {
  if (value >>> 0 !== value) throw new AssertionError(`unsigned varint ${value} is not a uint32`)
  let rest = value
  while (rest >= 0x80) {
    target[position++] = (rest & 0x7f) | 0x80
    rest >>>= 7
  }
  target[position++] = rest
  assert(position <= target.length, 'varint written past the end of its buffer')
  return position
}

export function writeVarlong(target: Uint8Array, position: number, value: number): number {
  if ((value | 0) === value) return writeVarint(target, position, value)
  if (!Number.isSafeInteger(value)) throw new AssertionError(`varlong ${value} is not safe`)
  // Split off the sign so no intermediate exceeds 2^53: zigzag = 2 * magnitude + sign.
  const negative = value < 0
  const magnitude = negative ? -value - 1 : value
  let rest = Math.floor(magnitude / 64)
  target[position++] = ((magnitude % 64) * 2 + (negative ? 1 : 0)) | 0x80
  while (rest >= 0x80) {
    target[position++] = (rest % 128) | 0x80
    rest = Math.floor(rest / 128)
  }
  target[position++] = rest
  assert(position <= target.length, 'varlong written past the end of its buffer')
  return position
}

/**
 * A read cursor over `bytes[position, end)`. `field` arguments only name what is being read in
 * error messages; they cost nothing on the success path.
 */
export class ByteReader {
  bytes: Uint8Array
  position: number
  end: number

  constructor(bytes: Uint8Array, position = 0, end = bytes.length) {
    assert(0 <= position && position <= end && end <= bytes.length, 'ByteReader bounds')
    this.bytes = bytes
    this.position = position
    this.end = end
  }

  get remaining(): number {
    return this.end - this.position
  }

  readInt8(field: string): number {
    if (this.position >= this.end) throw truncated(field, this.position)
    const byte = this.bytes[this.position++]!
    return (byte << 24) >> 24
  }

  readVarint(field: string): number {
    const bytes = this.bytes
    if (this.position < this.end) {
      const first = bytes[this.position]!
      if (first < 0x80) {
        this.position++
        return (first >>> 1) ^ -(first & 1)
      }
    }
    const zigzag = this.readUnsignedVarint(field)
    return (zigzag >>> 1) ^ -(zigzag & 1)
  }

  readUnsignedVarint(field: string): number {
    const bytes = this.bytes
    const end = this.end
    let position = this.position
    let result = 0
    for (let shift = 0; ; shift += 7) {
      if (position >= end) throw truncated(field, position)
      const byte = bytes[position++]!
      if (shift === 28) {
        // The fifth byte holds the top 4 bits and cannot continue.
        if (byte > 0x0f) throw overlong(field, this.position, 5)
        result |= byte << 28
        break
      }
      result |= (byte & 0x7f) << shift
      if (byte < 0x80) break
    }
    this.position = position
    return result >>> 0
  }

  readVarlong(field: string): number {
    const bytes = this.bytes
    const end = this.end
    let position = this.position
    let low = 0
    let high = 0
    for (let shift = 0; ; shift += 7) {
      if (position >= end) throw truncated(field, position)
      const byte = bytes[position++]!
      if (shift < 28) {
        low |= (byte & 0x7f) << shift
      } else if (shift < 63) {
        high += (byte & 0x7f) * 2 ** (shift - 28)
      } else {
        // The tenth byte holds bit 63 only.
        if (byte > 1) throw overlong(field, this.position, 10)
        high += byte * 2 ** 35
        break
      }
      if (byte < 0x80) break
    }
    // zigzag = high * 2^28 + low; magnitude = zigzag >> 1, computed without leaving 2^53.
    const magnitude = high * TWO_POW_27 + (low >>> 1)
    const value = (low & 1) === 0 ? magnitude : -magnitude - 1
    if (high >= VARLONG_HIGH_LIMIT || !Number.isSafeInteger(value)) {
      throw corruptBatch(`${field} varlong at byte ${this.position} exceeds 2^53`)
    }
    this.position = position
    return value
  }
}

function truncated(field: string, position: number): SluiceError {
  return corruptBatch(`${field} varint is truncated at byte ${position}`)
}

function overlong(field: string, position: number, maxBytes: number): SluiceError {
  return corruptBatch(`${field} varint at byte ${position} is longer than ${maxBytes} bytes`)
}
