/**
 * Avro-Java's Netty framing (NettyTransportCodec; reference §8.2): every RPC message, request
 * or response, travels as one data pack.
 *
 *   int32 BE  serial      request id chosen by the client, echoed by the server
 *   int32 BE  nbuffers    count of length-prefixed buffers that follow (≥ 1)
 *   repeat nbuffers:
 *     int32 BE  length    ≥ 0
 *     bytes[length]
 *
 * The Avro message is the concatenation of the buffers; boundaries carry no meaning (Java cuts
 * at handshake / payload and at 8 KiB blocks). This is not the Avro spec's `[len][bytes]…[0]`
 * framing.
 *
 * Invariants: the decoder checks nbuffers against maxBuffersPerFrame and every length against
 * what is left of maxFrameBytes before it keeps a byte of the pack, so a peer (or a netcat user
 * typing on the Avro port) cannot make it allocate more than maxFrameBytes plus one read chunk.
 * A pack is handed out only whole; a bad header is an AvroWireError and the stream is finished.
 */
import { assert } from '../../errors.js'
import { AvroWireError, AvroWireErrorCode } from './wire-errors.js'

export const PACK_HEADER_BYTES = 8
export const LENGTH_PREFIX_BYTES = 4

export interface FrameLimits {
  /** The largest message (sum of buffer lengths) accepted in one pack. */
  maxFrameBytes: number
  /** The most buffers one pack may announce. */
  maxBuffersPerFrame: number
}

/** 64 MiB: 100 events of 600 KiB each in one appendBatch, well under a JVM peer's 10 % guard. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
/** 65 536 buffers: a maxFrameBytes message cut into Java's 8 KiB blocks needs 8 192. */
export const DEFAULT_MAX_BUFFERS_PER_FRAME = 65_536

export interface DataPack {
  serial: number
  /** The buffers joined: the Avro message. */
  message: Buffer
}

/** The pack's bytes as a list (header, then a length prefix before each buffer). */
export function encodeFrame(serial: number, buffers: Buffer[]): Buffer[] {
  assert(Number.isInteger(serial) && serial >= -0x80000000 && serial <= 0x7fffffff,
    `a serial is an int32, got ${serial}`)
  assert(buffers.length >= 1, 'a data pack carries at least one buffer')
  const header = Buffer.alloc(PACK_HEADER_BYTES)
  header.writeInt32BE(serial, 0)
  header.writeInt32BE(buffers.length, 4)
  const out: Buffer[] = [header]
  for (const buffer of buffers) {
    const length = Buffer.alloc(LENGTH_PREFIX_BYTES)
    length.writeInt32BE(buffer.byteLength, 0)
    out.push(length, buffer)
  }
  return out
}

/** Cuts whole data packs out of a byte stream; one decoder per connection direction. */
export class FrameDecoder {
  private pending: Buffer[] = []
  private pendingBytes = 0
  /** The pack being read: its header is checked, its buffers arrive one by one. */
  private serial = 0
  private buffersLeft = -1
  private parts: Buffer[] = []
  private messageBytes = 0

  constructor(private readonly limits: FrameLimits) {}

  /** Bytes held for a pack not yet whole (bounded by maxFrameBytes + one chunk + headers). */
  get bufferedBytes(): number {
    return this.pendingBytes + this.messageBytes
  }

  /** Feeds a chunk; returns the packs it completed. Throws AvroWireError on a bad header. */
  push(chunk: Buffer): DataPack[] {
    if (chunk.byteLength > 0) {
      this.pending.push(chunk)
      this.pendingBytes += chunk.byteLength
    }
    const packs: DataPack[] = []
    for (;;) {
      if (this.buffersLeft < 0) {
        const header = this.read(PACK_HEADER_BYTES)
        if (header === null) return packs
        this.startPack(header.readInt32BE(0), header.readInt32BE(4))
        continue
      }
      if (this.buffersLeft === 0) {
        packs.push(this.finishPack())
        continue
      }
      const prefix = this.peek(LENGTH_PREFIX_BYTES)
      if (prefix === null) return packs
      const length = prefix.readInt32BE(0)
      this.checkLength(length)
      const buffer = this.readAfterPrefix(length)
      if (buffer === null) return packs
      this.parts.push(buffer)
      this.messageBytes += length
      this.buffersLeft--
    }
  }

  private startPack(serial: number, buffers: number): void {
    if (buffers < 1 || buffers > this.limits.maxBuffersPerFrame) {
      throw new AvroWireError(AvroWireErrorCode.FRAME, `data pack ${serial} announces ` +
        `${buffers} buffers; between 1 and maxBuffersPerFrame (` +
        `${this.limits.maxBuffersPerFrame}) are accepted`)
    }
    this.serial = serial
    this.buffersLeft = buffers
    this.parts = []
    this.messageBytes = 0
  }

  private checkLength(length: number): void {
    if (length < 0 || this.messageBytes + length > this.limits.maxFrameBytes) {
      throw new AvroWireError(AvroWireErrorCode.FRAME, `data pack ${this.serial}: a buffer of ` +
        `${length} bytes would make the message exceed maxFrameBytes ` +
        `(${this.limits.maxFrameBytes} bytes), or is negative`)
    }
  }

  private finishPack(): DataPack {
    const message = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts)
    assert(message.byteLength === this.messageBytes, 'a pack is its buffers joined')
    const pack = { serial: this.serial, message }
    this.buffersLeft = -1
    this.parts = []
    this.messageBytes = 0
    return pack
  }

  /** The first `count` pending bytes without consuming them, or null if fewer are held. */
  private peek(count: number): Buffer | null {
    if (this.pendingBytes < count) return null
    if (count === 0) return Buffer.alloc(0)
    const first = this.pending[0]!
    if (first.byteLength >= count) return first.subarray(0, count)
    const joined = Buffer.concat(this.pending)
    this.pending = [joined]
    return joined.subarray(0, count)
  }

  private read(count: number): Buffer | null {
    const bytes = this.peek(count)
    if (bytes === null) return null
    this.consume(count)
    return bytes
  }

  /** A length prefix (already checked) and its buffer, consumed only when both are here. */
  private readAfterPrefix(length: number): Buffer | null {
    if (this.pendingBytes < LENGTH_PREFIX_BYTES + length) return null
    this.consume(LENGTH_PREFIX_BYTES)
    // Copied once, exactly `length` bytes (concat truncates to it), not joined first: the
    // chunks it came from may be far larger than the buffer it carries.
    const owned = Buffer.concat(this.pending, length)
    this.consume(length)
    return owned
  }

  private consume(count: number): void {
    let left = count
    while (left > 0) {
      const first = this.pending[0]!
      if (first.byteLength <= left) {
        this.pending.shift()
        left -= first.byteLength
      } else {
        this.pending[0] = first.subarray(left)
        left = 0
      }
    }
    this.pendingBytes -= count
  }
}
