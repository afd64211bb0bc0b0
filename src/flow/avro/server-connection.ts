/**
 * One client connection of the avro source: its handshake state and its calls, served in order.
 *
 *   not connected  every request starts with a HandshakeRequest. A client hash the server knows
 *                  (or a clientProtocol text it can resolve) makes it connected: BOTH when the
 *                  client guessed our hash, CLIENT (with our protocol) when not. Unknown hash and
 *                  no text: NONE with our protocol, the request is not served (Java's Responder:
 *                  the answer is the handshake alone) and the client resends.
 *   connected      requests carry no handshake; an empty name is a ping.
 *
 * Calls are served one at a time: the input is paused while one is in the channel and while
 * replies wait for the client to read them, so a fast client fills its TCP window instead of
 * our memory. A reply is written only after the channel commit (OK) or refusal (FAILED).
 *
 * Bad input closes this connection only, with the reason logged: a frame over the limits, zlib
 * garbage, a handshake or call that does not decode, an unknown message name. Where the client
 * can still read a reply (a whole frame with a serial), it first gets an Avro system error
 * naming the reason, as Java's Responder sends one.
 */
import type * as net from 'node:net'
import type { FlowEvent, FlowLogger } from '../event.js'
import { FrameDecoder, encodeFrame, type DataPack, type FrameLimits } from './frame-codec.js'
import type { FramePipe } from './frame-pipe.js'
import {
  FLUME_PROTOCOL_HASH, FLUME_PROTOCOL_TEXT, HANDSHAKE_REQUEST_TYPE, PeerProtocol,
  decodeCallHead, decodeChecked, encodeHandshakeResponse, encodePingResponseBody,
  encodeStatusResponse, encodeSystemError, type FlumeMessageName, type FlumeStatus,
  type HandshakeRequest, type HandshakeResponse,
} from './flume-protocol.js'
import { AvroWireError, AvroWireErrorCode, isAvroWireError } from './wire-errors.js'

/** What the source does with a decoded call: commit, then say OK or FAILED. */
export type CallHandler = (name: FlumeMessageName, events: FlowEvent[]) => Promise<FlumeStatus>

/** Client protocols remembered by hash, shared by a server's connections (bounded). */
export class ProtocolCache {
  private readonly byHash = new Map<string, PeerProtocol>()

  constructor(private readonly maxEntries = 16) {}

  get(hash: Buffer): PeerProtocol | undefined {
    return hash.equals(FLUME_PROTOCOL_HASH) ? PeerProtocol.flume
      : this.byHash.get(hash.toString('hex'))
  }

  add(protocol: PeerProtocol): void {
    if (this.byHash.size >= this.maxEntries) {
      this.byHash.delete(this.byHash.keys().next().value!)
    }
    this.byHash.set(protocol.hash.toString('hex'), protocol)
  }
}

const CLOSE_GRACE_MS = 2000

export class ServerConnection {
  private peer: PeerProtocol | null = null
  private readonly decoder: FrameDecoder
  private readonly queue: DataPack[] = []
  private serving: Promise<void> | null = null
  private closing = false
  /** Ends a wait for the client to read its replies (a client that never reads holds it). */
  private stopWaiting: (() => void) | null = null

  constructor(private readonly socket: net.Socket, private readonly pipe: FramePipe,
    limits: FrameLimits, private readonly protocols: ProtocolCache,
    private readonly handle: CallHandler, private readonly logger: FlowLogger,
    private readonly label: string, private readonly onBadInput: () => void) {
    this.decoder = new FrameDecoder(limits)
    pipe.input.on('data', (chunk: Buffer) => this.receive(chunk))
    pipe.input.on('error', (error: Error) => this.refuse(null,
      new AvroWireError(AvroWireErrorCode.FRAME, `undecodable input: ${error.message}`)))
  }

  /** Resolves when the call being served (if any) has been answered. */
  async idle(): Promise<void> {
    while (this.serving !== null) await this.serving
  }

  /** Stops reading; what is queued but not begun is dropped (never acknowledged). */
  stopReading(): void {
    this.closing = true
    this.queue.length = 0
    this.pipe.input.pause()
    this.stopWaiting?.()
  }

  private receive(chunk: Buffer): void {
    if (this.closing) return
    let packs: DataPack[]
    try {
      packs = this.decoder.push(chunk)
    } catch (error) {
      this.refuse(null, error)
      return
    }
    if (packs.length === 0) return
    this.queue.push(...packs)
    this.pipe.input.pause()
    this.serving ??= this.serveQueue().finally(() => { this.serving = null })
  }

  private async serveQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.closing) {
      const pack = this.queue.shift()!
      try {
        const reply = await this.serve(pack)
        if (!this.socket.destroyed) this.pipe.write(encodeFrame(pack.serial, reply))
      } catch (error) {
        this.refuse(pack.serial, error)
        return
      }
      // A stop that came while the call was being served found no waiter to wake: check it
      // here, or a client that never reads its replies would hold the stop for ever.
      if (this.closing) break
      await new Promise<void>((resolve) => {
        this.stopWaiting = resolve
        this.pipe.onceWritable(resolve)
      })
      this.stopWaiting = null
    }
    if (!this.closing && !this.socket.destroyed) this.pipe.input.resume()
  }

  /** One request → the buffers of its reply (handshake first, as Java lays them out). */
  private async serve(pack: DataPack): Promise<Buffer[]> {
    const message = pack.message
    let offset = 0
    let handshake: Buffer | null = null
    if (this.peer === null) {
      const shake = this.handshake(message)
      handshake = encodeHandshakeResponse(shake.response)
      if (shake.peer === null) return [handshake]
      this.peer = shake.peer
      offset = shake.offset
    }
    const head = decodeCallHead(message, offset)
    const lead = handshake === null ? [] : [handshake]
    if (head.name === '') return [...lead, encodePingResponseBody()]
    if (!this.peer.has(head.name)) {
      throw new AvroWireError(AvroWireErrorCode.MESSAGE,
        `No such remote message: ${JSON.stringify(head.name)} (Flume's protocol has append ` +
        'and appendBatch)')
    }
    const name = head.name
    const params = this.peer.decodeParams(name, message, head.offset) as
      { events?: FlowEvent[]; event?: FlowEvent }
    const events = name === 'appendBatch' ? params.events! : [params.event!]
    const status = await this.handle(name, events.map(toFlowEvent))
    return [...lead, encodeStatusResponse(name, status)]
  }

  private handshake(message: Buffer)
    : { response: HandshakeResponse; peer: PeerProtocol | null; offset: number } {
    let request: { value: HandshakeRequest; offset: number }
    try {
      request = decodeChecked<HandshakeRequest>(HANDSHAKE_REQUEST_TYPE, message, 0,
        'handshake request')
    } catch (error) {
      throw new AvroWireError(AvroWireErrorCode.HANDSHAKE, (error as Error).message)
    }
    const { clientHash, clientProtocol, serverHash } = request.value
    let peer = this.protocols.get(clientHash) ?? null
    if (peer === null && clientProtocol !== null) {
      peer = PeerProtocol.parse(clientProtocol, clientHash)
      this.protocols.add(peer)
    }
    const match = peer === null ? 'NONE' : serverHash.equals(FLUME_PROTOCOL_HASH) ? 'BOTH'
      : 'CLIENT'
    const ours = match === 'BOTH' ? { serverProtocol: null, serverHash: null }
      : { serverProtocol: FLUME_PROTOCOL_TEXT, serverHash: FLUME_PROTOCOL_HASH }
    return { response: { match, ...ours, meta: null }, peer, offset: request.offset }
  }

  /** Closes this connection for bad input: a system error first when a serial is known. */
  private refuse(serial: number | null, error: unknown): void {
    if (this.closing && this.socket.destroyed) return
    this.closing = true
    this.queue.length = 0
    const reason = isAvroWireError(error) ? `${error.code}: ${error.message}`
      : `SLUICE_ERR_AVRO_MESSAGE: ${(error as Error).message}`
    this.logger.warn(`${this.label}: closing the connection: ${reason}`)
    this.onBadInput()
    if (serial !== null && !this.socket.destroyed) {
      this.pipe.write(encodeFrame(serial, [encodeSystemError(reason)]))
      this.pipe.end()
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
    } else {
      this.socket.destroy()
    }
  }
}

/** avsc decodes records as class instances and maps as plain objects: copy to Flume's shape. */
function toFlowEvent(event: FlowEvent): FlowEvent {
  return { headers: { ...event.headers }, body: event.body }
}
