/**
 * A raw Kafka-protocol test client over a real TCP socket, built on the broker's own codec
 * tables: it sends frames (well-formed or not) and reads reply frames in the order they come,
 * so tests can check ordering, framing and error handling byte by byte.
 */
import * as net from 'node:net'
import { handlerFor } from '../../src/kafka/api/index.js'
import { decodeMessage, encodeMessage, type Struct } from '../../src/kafka/protocol/codec.js'
import { decodeResponseHeader, encodeRequestHeader } from '../../src/kafka/protocol/headers.js'
import { Reader } from '../../src/kafka/protocol/reader.js'
import { isFlexible } from '../../src/kafka/protocol/schema.js'
import { Writer } from '../../src/kafka/protocol/writer.js'

export class WireClient {
  private buffered = Buffer.alloc(0)
  private readonly frames: Buffer[] = []
  private readonly waiting: ((frame: Buffer | null) => void)[] = []
  private correlationId = 1
  private ended = false
  readonly closed: Promise<void>

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => this.receive(chunk))
    this.closed = new Promise((resolve) => socket.on('close', () => {
      this.ended = true
      for (const waiter of this.waiting.splice(0)) waiter(null)
      resolve()
    }))
    socket.on('error', () => undefined)
  }

  static connect(port: number): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new WireClient(socket)))
      socket.once('error', reject)
    })
  }

  /** Encodes a request with the broker's schema for (apiKey, version); returns its id. */
  send(apiKey: number, version: number, body: Struct, clientId: string | null = 'wire'): number {
    const correlationId = this.correlationId++
    this.socket.write(encodeRequest(apiKey, version, correlationId, body, clientId))
    return correlationId
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** The next reply frame (without its size prefix), or null if the connection closed. */
  nextFrame(timeoutMs = 10_000): Promise<Buffer | null> {
    const ready = this.frames.shift()
    if (ready !== undefined) return Promise.resolve(ready)
    if (this.ended) return Promise.resolve(null)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)),
        timeoutMs)
      this.waiting.push((frame) => {
        clearTimeout(timer)
        resolve(frame)
      })
    })
  }

  /** Reads the next reply and decodes it as (apiKey, version)'s response. */
  async reply(apiKey: number, version: number): Promise<{ correlationId: number; body: Struct }> {
    const frame = await this.nextFrame()
    if (frame === null) throw new Error('connection closed before the reply')
    return decodeReply(frame, apiKey, version)
  }

  async request(apiKey: number, version: number, body: Struct): Promise<Struct> {
    const id = this.send(apiKey, version, body)
    const { correlationId, body: reply } = await this.reply(apiKey, version)
    if (correlationId !== id) throw new Error(`reply ${correlationId} answers request ${id}`)
    return reply
  }

  close(): void {
    this.socket.destroy()
  }

  private receive(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk])
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0)
      if (this.buffered.length < 4 + size) break
      const frame = this.buffered.subarray(4, 4 + size)
      this.buffered = this.buffered.subarray(4 + size)
      const waiter = this.waiting.shift()
      if (waiter !== undefined) waiter(frame)
      else this.frames.push(frame)
    }
  }
}

export function encodeRequest(
  apiKey: number, version: number, correlationId: number, body: Struct,
  clientId: string | null = 'wire',
): Buffer {
  const handler = handlerFor(apiKey)!
  const writer = new Writer()
  const size = writer.reserveInt32()
  encodeRequestHeader(writer, { apiKey, apiVersion: version, correlationId, clientId },
    isFlexible(handler.request, version))
  encodeMessage(handler.request, version, body, writer)
  size.set(writer.length - 4)
  return writer.toBuffer()
}

export function decodeReply(frame: Buffer, apiKey: number, version: number)
  : { correlationId: number; body: Struct } {
  const handler = handlerFor(apiKey)!
  const reader = new Reader(frame)
  const correlationId = decodeResponseHeader(reader, apiKey, isFlexible(handler.response, version))
  return { correlationId, body: decodeMessage(handler.response, version, reader) }
}
