/**
 * One client TCP connection: splits the byte stream into frames, runs them concurrently, and
 * writes the replies strictly in arrival order (Kafka clients may pipeline; Java clients need
 * the order, and a long-polling Fetch must not be overtaken by the requests behind it).
 *
 *   frame = int32 size (bytes that follow) · request header · request body
 *
 * Bounds (DESIGN rule 6), all checked before memory is committed:
 * - a size prefix above maxRequestBytes (or below the smallest header) closes the connection
 *   before any frame buffer exists; a frame's bytes are gathered only as they arrive;
 * - while the socket's unsent replies, plus finished replies held back for order, exceed
 *   maxWriteBufferBytes (a client that never reads cannot grow our memory), or the requests
 *   awaiting their reply reach maxInFlightRequests or maxInFlightBytes, reads pause and frames
 *   already received wait unparsed;
 * - one Fetch runs at a time per connection (Kafka's broker runs one request per connection):
 *   a Fetch reply can be tens of MiB read from the files, so pipelined Fetches wait, unstarted,
 *   until the one before has been handed to the socket and the socket is under its bound.
 * A frame that fails to parse closes this connection only, with the reason logged.
 */
import type { Socket } from 'node:net'
import type { BrokerState } from './broker-state.js'
import { dispatch } from './dispatch.js'
import { isProtocolError, ProtocolErrorCode } from './protocol/errors.js'
import { MIN_REQUEST_HEADER_BYTES } from './protocol/headers.js'

export interface ConnectionLimits {
  maxRequestBytes: number
  maxWriteBufferBytes: number
  maxInFlightRequests: number
  maxInFlightBytes: number
}

interface Slot {
  frameBytes: number
  done: boolean
  reply: Buffer[] | null
  replyBytes: number
  isFetch: boolean
}

const SIZE_PREFIX_BYTES = 4
const FETCH_API_KEY = 1

export class Connection {
  private readonly pending: Buffer[] = []
  private pendingBytes = 0
  /** Size of the frame being gathered, or −1 while its size prefix is still awaited. */
  private frameBytes = -1
  private readonly slots: Slot[] = []
  private inFlightBytes = 0
  /** Finished replies waiting for an earlier request's reply before they can be written. */
  private heldReplyBytes = 0
  /** Fetches started and not yet handed to the socket (at most one). */
  private fetchesInFlight = 0
  /** A received Fetch frame waiting for the Fetch before it. */
  private deferredFetch: Buffer | null = null
  private paused = false
  private closed = false
  private readonly closing = new AbortController()
  readonly clientHost: string

  constructor(
    private readonly socket: Socket,
    private readonly broker: BrokerState,
    private readonly limits: ConnectionLimits,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('drain', () => this.pump())
    socket.on('error', (error) => this.close(`socket error: ${error.message}`, 'info'))
    socket.on('close', () => this.close(null, 'info'))
  }

  /** True while reads are paused by one of the bounds above. */
  get isPaused(): boolean {
    return this.paused
  }

  /** Reply bytes handed to the socket and not yet sent. */
  get unsentReplyBytes(): number {
    return this.socket.writableLength
  }

  /** Ends the connection; `reason` is logged (null: the peer went away). */
  close(reason: string | null, level: 'info' | 'warn' = 'warn'): void {
    if (this.closed) return
    this.closed = true
    if (reason !== null) {
      this.broker.logger[level]('closing connection', { client: this.clientHost, reason })
    }
    this.socket.destroy()
    this.closing.abort()
    this.pending.length = 0
    this.slots.length = 0
    this.deferredFetch = null
    this.onClose(this)
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return
    this.pending.push(chunk)
    this.pendingBytes += chunk.byteLength
    this.pump()
  }

  /**
   * Starts every complete frame while the bounds allow, then pauses or resumes reading. Frames
   * already received but over a bound wait here, unparsed, until replies drain.
   */
  private pump(): void {
    this.startDeferredFetch()
    while (!this.closed && !this.overloaded() && this.startNextFrame()) { /* next frame */ }
    if (this.closed) return
    const overloaded = this.overloaded()
    if (overloaded && !this.paused) {
      this.paused = true
      this.socket.pause()
    } else if (!overloaded && this.paused) {
      this.paused = false
      this.socket.resume()
    }
  }

  private overloaded(): boolean {
    const { maxWriteBufferBytes, maxInFlightRequests, maxInFlightBytes } = this.limits
    return this.socket.writableLength + this.heldReplyBytes > maxWriteBufferBytes
      || this.slots.length >= maxInFlightRequests || this.inFlightBytes >= maxInFlightBytes
      || this.deferredFetch !== null
  }

  /** Starts the waiting Fetch once the one before it has reached the socket. */
  private startDeferredFetch(): void {
    const frame = this.deferredFetch
    if (frame === null || this.fetchesInFlight > 0) return
    const { maxWriteBufferBytes } = this.limits
    if (this.socket.writableLength + this.heldReplyBytes > maxWriteBufferBytes) return
    this.deferredFetch = null
    this.start(frame)
  }

  /** Parses one frame if its bytes are all here; false when more bytes are needed. */
  private startNextFrame(): boolean {
    if (this.frameBytes < 0) {
      if (this.pendingBytes < SIZE_PREFIX_BYTES) return false
      const size = this.take(SIZE_PREFIX_BYTES).readInt32BE(0)
      if (size < MIN_REQUEST_HEADER_BYTES || size > this.limits.maxRequestBytes) {
        this.close(`${ProtocolErrorCode.FRAME_SIZE}: frame size ${size} is outside ` +
          `${MIN_REQUEST_HEADER_BYTES}..${this.limits.maxRequestBytes} (maxRequestBytes)`)
        return false
      }
      this.frameBytes = size
    }
    if (this.pendingBytes < this.frameBytes) return false
    const frame = this.take(this.frameBytes)
    this.frameBytes = -1
    if (isFetch(frame) && this.fetchesInFlight > 0) {
      this.deferredFetch = frame
      return false
    }
    this.start(frame)
    return true
  }

  /** The next `count` bytes: a view when one chunk holds them, else one exact-size copy. */
  private take(count: number): Buffer {
    const first = this.pending[0]!
    let out: Buffer
    if (first.byteLength >= count) {
      out = first.subarray(0, count)
      if (first.byteLength === count) this.pending.shift()
      else this.pending[0] = first.subarray(count)
    } else {
      out = Buffer.allocUnsafeSlow(count)
      let filled = 0
      while (filled < count) {
        const chunk = this.pending[0]!
        const used = Math.min(chunk.byteLength, count - filled)
        chunk.copy(out, filled, 0, used)
        filled += used
        if (used === chunk.byteLength) this.pending.shift()
        else this.pending[0] = chunk.subarray(used)
      }
    }
    this.pendingBytes -= count
    return out
  }

  private start(frame: Buffer): void {
    const slot: Slot = { frameBytes: frame.byteLength, done: false, reply: null, replyBytes: 0,
      isFetch: isFetch(frame) }
    this.slots.push(slot)
    this.inFlightBytes += frame.byteLength
    if (slot.isFetch) this.fetchesInFlight++
    dispatch(frame, this.broker, this.clientHost, this.closing.signal).then((result) => {
      slot.reply = result.reply
      slot.replyBytes = result.reply?.reduce((sum, chunk) => sum + chunk.byteLength, 0) ?? 0
      slot.done = true
      this.heldReplyBytes += slot.replyBytes
      this.flush()
    }, (error: unknown) => {
      if (isProtocolError(error)) this.close(`${error.code}: ${error.message}`)
      else {
        this.broker.logger.error('request handler failed', { client: this.clientHost,
          error: error instanceof Error ? error.stack : String(error) })
        this.close('request handler failed')
      }
    })
  }

  /** Writes every finished reply at the head of the queue, in order, in one corked burst. */
  private flush(): void {
    if (this.closed) return
    this.socket.cork()
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const slot = this.slots.shift()!
      this.inFlightBytes -= slot.frameBytes
      this.heldReplyBytes -= slot.replyBytes
      if (slot.isFetch) this.fetchesInFlight--
      if (slot.reply !== null) for (const chunk of slot.reply) this.socket.write(chunk)
    }
    this.socket.uncork()
    this.pump()
  }
}

/** A request header starts with its int16 API key. */
function isFetch(frame: Buffer): boolean {
  return frame.byteLength >= 2 && frame.readInt16BE(0) === FETCH_API_KEY
}
