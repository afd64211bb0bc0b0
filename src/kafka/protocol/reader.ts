/**
 * A cursor over one request frame that never trusts a length it reads. Every read checks the
 * bytes left before touching or allocating anything, and fails with a ProtocolError (never a
 * RangeError), so a hostile frame costs at most its own size.
 *
 * Primitive layouts (big-endian, Kafka's protocol guide):
 *
 *   int8/16/32/64       fixed width, two's complement
 *   unsigned varint     7 bits a byte, low group first, high bit = more (≤ 5 bytes)
 *   string              int16 length (−1 = null) · UTF-8
 *   compact string      unsigned varint length+1 (0 = null) · UTF-8
 *   bytes               int32 length (−1 = null) · bytes
 *   compact bytes       unsigned varint length+1 (0 = null) · bytes
 *   array               int32 count (−1 = null) · items
 *   compact array       unsigned varint count+1 (0 = null) · items
 *   uuid                16 bytes
 *   int64 values must be safe integers (|v| < 2^53): they become JS numbers
 *
 * Bytes and records come back as views of the frame (no copy).
 */
import { malformed } from './errors.js'

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

export class Reader {
  private position: number

  constructor(private readonly bytes: Buffer, start = 0, private readonly end = bytes.length) {
    this.position = start
  }

  get offset(): number {
    return this.position
  }

  get remaining(): number {
    return this.end - this.position
  }

  private need(count: number, what: string): number {
    if (count < 0 || count > this.end - this.position) {
      throw malformed(`${what} needs ${count} bytes at offset ${this.position}, ` +
        `${this.end - this.position} left`)
    }
    const at = this.position
    this.position += count
    return at
  }

  int8(what = 'int8'): number {
    return this.bytes.readInt8(this.need(1, what))
  }

  int16(what = 'int16'): number {
    return this.bytes.readInt16BE(this.need(2, what))
  }

  int32(what = 'int32'): number {
    return this.bytes.readInt32BE(this.need(4, what))
  }

  /**
   * An int64 as a JS number. Values beyond ±(2^53 − 1) would lose precision, and no offset or
   * timestamp a client sends this broker is that large, so they are refused as malformed.
   */
  int64(what = 'int64'): number {
    const value = this.bytes.readBigInt64BE(this.need(8, what))
    if (value > MAX_SAFE || value < -MAX_SAFE) {
      throw malformed(`${what} ${value} is outside the safe integer range`)
    }
    return Number(value)
  }

  float64(what = 'float64'): number {
    return this.bytes.readDoubleBE(this.need(8, what))
  }

  unsignedVarint(what = 'unsigned varint'): number {
    let value = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.bytes[this.need(1, what)]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) {
        if (value > 0xffffffff) throw malformed(`${what} ${value} exceeds 32 bits`)
        return value
      }
    }
    throw malformed(`${what} is longer than 5 bytes`)
  }

  /** A view of the next `count` bytes. */
  view(count: number, what: string): Buffer {
    const at = this.need(count, what)
    return this.bytes.subarray(at, at + count)
  }

  skip(count: number, what: string): void {
    this.need(count, what)
  }

  utf8(count: number, what: string): string {
    const at = this.need(count, what)
    return this.bytes.toString('utf8', at, at + count)
  }

  /**
   * An array count, checked so that even the smallest items would fit in what is left:
   * a claimed count of 2^31 in a 20-byte frame fails here, before any array is allocated.
   */
  checkCount(count: number, minItemBytes: number, what: string): number {
    if (count * Math.max(1, minItemBytes) > this.remaining) {
      throw malformed(`${what} claims ${count} items, only ${this.remaining} bytes left`)
    }
    return count
  }

  expectEnd(what: string): void {
    if (this.position !== this.end) {
      throw malformed(`${this.end - this.position} bytes left over after ${what}`)
    }
  }
}
