/**
 * The avro sink's client: one connection to a Flume avro source (or a sluice one), Java
 * NettyTransceiver's behaviour with avsc's connect-time ping.
 *
 *   connect   TCP (+ TLS) (+ deflate), then a ping (serial 0) carrying a HandshakeRequest with
 *             our hash, no protocol text and our hash as the guess for the server's — byte for
 *             byte what avsc sends (reference §8.4). BOTH: done. CLIENT: the server's protocol
 *             comes back and calls are read with resolvers to ours. NONE (a Java server that
 *             does not know our hash): ping again with our protocol text; NONE twice is an
 *             error. The whole connect is bounded by connect-timeout.
 *   call      appendBatch with the next serial, answered by serial (Avro-Java's server may
 *             answer out of order), each bounded by request-timeout.
 *
 * Any failure (timeout, FAILED, a system error, bad bytes, the connection closing) rejects the
 * calls in flight and leaves the client unusable; the sink closes it and makes a new one on its
 * next batch, as Flume's AbstractRpcSink does.
 */
import * as net from 'node:net'
import * as tls from 'node:tls'
import type { FlowEvent } from '../event.js'
import { deliveryError } from '../sinks/sink.js'
import { FrameDecoder, encodeFrame, type DataPack, type FrameLimits } from './frame-codec.js'
import { framePipe, type FramePipe } from './frame-pipe.js'
import {
  FLUME_PROTOCOL_HASH, FLUME_PROTOCOL_TEXT, HANDSHAKE_RESPONSE_TYPE, PeerProtocol, decodeChecked,
  encodeCall, encodeHandshakeRequest, type FlumeStatus, type HandshakeResponse,
} from './flume-protocol.js'
import { AvroWireError, AvroWireErrorCode } from './wire-errors.js'

export interface RpcClientOptions {
  host: string
  port: number
  connectTimeoutMs: number
  requestTimeoutMs: number
  compressionLevel: number | null
  tls: tls.ConnectionOptions | null
  limits: FrameLimits
}

interface PendingCall {
  resolve(message: Buffer): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

const MAX_SERIAL = 0x7fffffff

export class AvroRpcClient {
  private readonly decoder: FrameDecoder
  private readonly pending = new Map<number, PendingCall>()
  private nextSerial = 0
  private peer: PeerProtocol = PeerProtocol.flume
  private failure: Error | null = null

  private constructor(private readonly socket: net.Socket, private readonly pipe: FramePipe,
    private readonly options: RpcClientOptions) {
    this.decoder = new FrameDecoder(options.limits)
    pipe.input.on('data', (chunk: Buffer) => this.receive(chunk))
    pipe.input.on('error', (error: Error) => this.fail(error))
    socket.on('error', (error) => this.fail(error))
    socket.on('close', () => this.fail(new Error('the connection was closed')))
  }

  get address(): string {
    return `${this.options.host}:${this.options.port}`
  }

  /** Connects and handshakes within connect-timeout; the error names the address. */
  static async connect(options: RpcClientOptions): Promise<AvroRpcClient> {
    const where = `${options.host}:${options.port}`
    let client: AvroRpcClient | null = null
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connect-timeout (${options.connectTimeoutMs} ` +
        `ms) passed connecting to ${where}`)), options.connectTimeoutMs)
    })
    const socket = openSocket(options)
    try {
      await Promise.race([connected(socket, options.tls !== null), timeout])
      client = new AvroRpcClient(socket, framePipe(socket, options.compressionLevel), options)
      await Promise.race([client.handshake(), timeout])
      return client
    } catch (error) {
      socket.destroy()
      throw deliveryError(`cannot connect to the avro source at ${where}: ` +
        (error as Error).message, error)
    } finally {
      clearTimeout(timer)
    }
  }

  /** Sends one appendBatch; resolves when the server answered OK. */
  async appendBatch(events: FlowEvent[]): Promise<void> {
    // A FlowEvent is an AvroFlumeEvent's shape: avsc writes the events as they are.
    const reply = await this.call([encodeCall('appendBatch', { events })],
      this.options.requestTimeoutMs)
    let status: FlumeStatus
    try {
      status = this.peer.decodeResponse('appendBatch', reply, 0)
    } catch (error) {
      this.fail(error as Error)
      throw error
    }
    if (status !== 'OK') {
      throw deliveryError(`Failed to send batch to ${this.address}: Avro RPC call returned ` +
        `Status: ${status}`)
    }
  }

  close(): void {
    this.fail(new Error('the client was closed'))
  }

  private async handshake(): Promise<void> {
    let response = await this.ping(null, FLUME_PROTOCOL_HASH)
    if (response.match === 'NONE') {
      this.learnServer(response)
      response = await this.ping(FLUME_PROTOCOL_TEXT, response.serverHash!)
    }
    if (response.match === 'NONE') {
      throw new AvroWireError(AvroWireErrorCode.HANDSHAKE,
        'the server answered NONE to a handshake that carried our protocol')
    }
    if (response.match === 'CLIENT') this.learnServer(response)
  }

  private learnServer(response: HandshakeResponse): void {
    if (response.serverProtocol === null || response.serverHash === null) {
      throw new AvroWireError(AvroWireErrorCode.HANDSHAKE,
        `a ${response.match} handshake response must carry the server's protocol and hash`)
    }
    this.peer = PeerProtocol.parse(response.serverProtocol, response.serverHash)
  }

  private async ping(protocolText: string | null, serverHash: Buffer)
    : Promise<HandshakeResponse> {
    const request = encodeHandshakeRequest({ clientHash: FLUME_PROTOCOL_HASH,
      clientProtocol: protocolText, serverHash, meta: null })
    const reply = await this.call([request, encodeCall('', null)],
      this.options.connectTimeoutMs)
    const { value } = decodeChecked<HandshakeResponse>(HANDSHAKE_RESPONSE_TYPE, reply, 0,
      'handshake response')
    // After the handshake avsc adds meta {} and isError false; Java sends nothing more.
    return value
  }

  private call(buffers: Buffer[], timeoutMs: number): Promise<Buffer> {
    if (this.failure !== null) return Promise.reject(this.failure)
    const serial = this.nextSerial
    this.nextSerial = serial === MAX_SERIAL ? 0 : serial + 1
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`no answer from ${this.address} ` +
        `within ${timeoutMs} ms (request-timeout)`)), timeoutMs)
      this.pending.set(serial, { resolve, reject, timer })
      this.pipe.write(encodeFrame(serial, buffers))
    })
  }

  private receive(chunk: Buffer): void {
    let packs: DataPack[]
    try {
      packs = this.decoder.push(chunk)
    } catch (error) {
      this.fail(error as Error)
      return
    }
    for (const pack of packs) {
      const call = this.pending.get(pack.serial)
      if (call === undefined) {
        this.fail(new AvroWireError(AvroWireErrorCode.FRAME, `the server answered serial ` +
          `${pack.serial}, which no call in flight has`))
        return
      }
      this.pending.delete(pack.serial)
      clearTimeout(call.timer)
      call.resolve(pack.message)
    }
  }

  /** Rejects every call in flight with `error` and closes the connection (first error wins). */
  private fail(error: Error): void {
    this.failure ??= error
    for (const call of this.pending.values()) {
      clearTimeout(call.timer)
      call.reject(this.failure)
    }
    this.pending.clear()
    if (!this.socket.destroyed) this.socket.destroy()
  }
}

function openSocket(options: RpcClientOptions): net.Socket {
  if (options.tls === null) return net.connect({ host: options.host, port: options.port })
  const servername = net.isIP(options.host) === 0 ? options.host : undefined
  return tls.connect({ ...options.tls, host: options.host, port: options.port, servername })
}

function connected(socket: net.Socket, secure: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.off('error', reject)
      resolve()
    })
    socket.once('error', reject)
  })
}
