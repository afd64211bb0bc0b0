/**
 * Builds a response as a list of chunks: small fields go into one growing scratch buffer, while
 * stored record batches are appended as the engine's own Buffer views, so Fetch serves the
 * log's bytes without copying them. The server writes the chunks with one corked burst.
 *
 * Layouts are the Reader's (see reader.ts); the two are an encode/decode pair.
 */
import { assert } from '../../errors.js'

const INITIAL_SCRATCH_BYTES = 512

export class Writer {
  private scratch: Buffer
  private position = 0
  /** Start of the scratch bytes not yet moved into `chunks`. */
  private flushedTo = 0
  private readonly chunks: Buffer[] = []
  private chunkBytes = 0

  constructor(initialBytes = INITIAL_SCRATCH_BYTES) {
    this.scratch = Buffer.allocUnsafe(initialBytes)
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkBytes + (this.position - this.flushedTo)
  }

  /** Room for `count` bytes; may switch to a new scratch, so read `this.scratch` after it. */
  private ensure(count: number): number {
    if (this.position + count > this.scratch.length) {
      this.flushScratch()
      const size = Math.max(this.scratch.length * 2, count)
      this.scratch = Buffer.allocUnsafe(size)
      this.position = 0
      this.flushedTo = 0
    }
    const at = this.position
    this.position += count
    return at
  }

  private flushScratch(): void {
    if (this.position > this.flushedTo) {
      this.chunks.push(this.scratch.subarray(this.flushedTo, this.position))
      this.chunkBytes += this.position - this.flushedTo
      this.flushedTo = this.position
    }
  }

  int8(value: number): void {
    const at = this.ensure(1)
    this.scratch.writeInt8(value, at)
  }

  int16(value: number): void {
    const at = this.ensure(2)
    this.scratch.writeInt16BE(value, at)
  }

  int32(value: number): void {
    const at = this.ensure(4)
    this.scratch.writeInt32BE(value, at)
  }

  int64(value: number): void {
    assert(Number.isSafeInteger(value), `int64 field value ${value} is not a safe integer`)
    const at = this.ensure(8)
    this.scratch.writeBigInt64BE(BigInt(value), at)
  }

  float64(value: number): void {
    const at = this.ensure(8)
    this.scratch.writeDoubleBE(value, at)
  }

  unsignedVarint(value: number): void {
    assert(value >>> 0 === value, `unsigned varint ${value} is not a uint32`)
    let rest = value
    while (rest >= 0x80) {
      const at = this.ensure(1)
      this.scratch[at] = (rest & 0x7f) | 0x80
      rest >>>= 7
    }
    const at = this.ensure(1)
    this.scratch[at] = rest
  }

  utf8(value: string, byteLength: number): void {
    const at = this.ensure(byteLength)
    this.scratch.write(value, at, byteLength, 'utf8')
  }

  /** Small byte strings are copied into the scratch; large ones are kept as views. */
  bytes(value: Uint8Array): void {
    if (value.byteLength <= 256) {
      const at = this.ensure(value.byteLength)
      this.scratch.set(value, at)
      return
    }
    this.flushScratch()
    // Keep the caller's Buffer object itself: a tail-window view carries its slot's lease.
    this.chunks.push(Buffer.isBuffer(value) ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength))
    this.chunkBytes += value.byteLength
  }

  /** Reserves an int32 to patch later (a length known only after writing what follows). */
  reserveInt32(): { set(value: number): void } {
    // ensure() may move to a new scratch buffer: take the buffer only after it.
    const at = this.ensure(4)
    const buffer = this.scratch
    return { set: (value) => void buffer.writeInt32BE(value, at) }
  }

  /** The response as chunks, in order; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.flushScratch()
    return this.chunks
  }

  /** The response as one buffer (tests, small replies). */
  toBuffer(): Buffer {
    return Buffer.concat(this.finish())
  }
}
