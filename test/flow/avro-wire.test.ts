// Proves sluice speaks Flume's Avro RPC byte for byte: the avro source answers the exact bytes
// captured from avsc 5.7.9 (reference §8.4) with the exact captured reply, the avro sink's
// client sends exactly the captured bytes, a Java-style handshake (unknown hash → NONE → resend
// with the protocol text → CLIENT) is served, single-event `append` is served, and avsc's own
// Netty codec talks to both sides. Real Flume cannot be fetched here: the capture and avsc's
// independent codec are the interop proof.
import * as crypto from 'node:crypto'
import * as net from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { DEFAULT_MAX_BUFFERS_PER_FRAME } from '../../src/flow/avro/frame-codec.js'
import {
  FLUME_PROTOCOL_HASH, FLUME_PROTOCOL_TEXT, FLUME_SERVICE, HANDSHAKE_REQUEST_TYPE,
  HANDSHAKE_RESPONSE_TYPE, type HandshakeResponse,
} from '../../src/flow/avro/flume-protocol.js'
import { AvroRpcClient } from '../../src/flow/avro/rpc-client.js'
import { AvroSource } from '../../src/flow/sources/avro-source.js'
import { capturingLogger, processorFor, takeAll } from './flow-helpers.js'
import { inTransaction } from '../../src/flow/transaction.js'

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex')
const LIMITS = { maxFrameBytes: 1024 * 1024, maxBuffersPerFrame: DEFAULT_MAX_BUFFERS_PER_FRAME }

// Reference §8.4; the capture elides the MD5's middle bytes ("35 b2 … 96"): the hash is avsc's
// MD5 of Flume's protocol JSON, which starts 35 b2 and ends 96 as captured.
const HASH = '35b2a3c603776e92b8abbd7f01859296'
const CLIENT_PING = hex(`00000000 00000002 00000022 ${HASH} 00 ${HASH} 00 00000002 0000`)
const CLIENT_CALL = hex(`00000001 00000001 00000025 00 16 617070656e644261746368 04
  02 08 686f7374 02 61 00 0a 68656c6c6f  00 0a 776f726c64  00`)
const SERVER_PING_REPLY = hex('00000000 00000002 00000004 00000000 00000002 0000')
const SERVER_CALL_REPLY = hex('00000001 00000001 00000003 00 00 00')

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startSource(): Promise<{ source: AvroSource; channel: MemoryChannel }> {
  const logger = capturingLogger()
  const channel = new MemoryChannel('c1', { capacity: 100, transactionCapacity: 100,
    keepAliveSeconds: 0 })
  await channel.start()
  const source = new AvroSource('r1', processorFor(channel, logger), {
    bind: '127.0.0.1', port: 0, compression: false, tls: null, ipFilterRules: null,
    limits: LIMITS }, logger)
  await source.start()
  cleanups.push(() => source.stop(), () => channel.stop())
  return { source, channel }
}

/** A raw TCP client that collects every byte it receives. */
async function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let received = Buffer.alloc(0)
  const waiters: (() => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    for (const wake of waiters.splice(0)) wake()
  })
  cleanups.push(() => { socket.destroy() })
  return {
    socket,
    /** Waits (bounded) until `count` bytes arrived after `from`; returns them. */
    async read(from: number, count: number): Promise<Buffer> {
      const deadline = Date.now() + 10_000
      while (received.byteLength < from + count) {
        if (Date.now() > deadline) throw new Error(`got ${received.byteLength - from} of ${count}`)
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 100)
        })
      }
      return received.subarray(from, from + count)
    },
    get receivedBytes(): number {
      return received.byteLength
    },
  }
}

it('is the protocol hash the capture shows', () => {
  expect(FLUME_PROTOCOL_HASH.toString('hex')).toBe(HASH)
  expect(crypto.createHash('md5').update(FLUME_PROTOCOL_TEXT).digest('hex')).toBe(HASH)
})

it('the avro source answers the captured client bytes with the captured reply', async () => {
  const { source, channel } = await startSource()
  const client = await rawClient(source.port)
  client.socket.write(CLIENT_PING)
  expect((await client.read(0, SERVER_PING_REPLY.byteLength)).toString('hex'))
    .toBe(SERVER_PING_REPLY.toString('hex'))
  client.socket.write(CLIENT_CALL)
  expect((await client.read(SERVER_PING_REPLY.byteLength, SERVER_CALL_REPLY.byteLength))
    .toString('hex')).toBe(SERVER_CALL_REPLY.toString('hex'))
  const events = await inTransaction(channel, async (tx) => [await tx.take(), await tx.take()])
  expect(events.map((e) => [e?.headers, e?.body.toString()])).toEqual([
    [{ host: 'a' }, 'hello'], [{}, 'world']])
  expect(source.counter.get('AppendBatchAcceptedCount')).toBe(1)
  expect(source.counter.get('EventAcceptedCount')).toBe(2)
})

it('the avro sink\'s client sends exactly the captured bytes', async () => {
  let received = Buffer.alloc(0)
  const server = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      const before = received.byteLength
      received = Buffer.concat([received, chunk])
      if (before < CLIENT_PING.byteLength && received.byteLength >= CLIENT_PING.byteLength) {
        socket.write(SERVER_PING_REPLY)
      }
      if (received.byteLength === CLIENT_PING.byteLength + CLIENT_CALL.byteLength) {
        socket.write(SERVER_CALL_REPLY)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as net.AddressInfo).port
  const client = await AvroRpcClient.connect({ host: '127.0.0.1', port, connectTimeoutMs: 10_000,
    requestTimeoutMs: 10_000, compressionLevel: null, tls: null, limits: LIMITS })
  cleanups.push(() => client.close())
  await client.appendBatch([{ headers: { host: 'a' }, body: Buffer.from('hello') },
    { headers: {}, body: Buffer.from('world') }])
  expect(received.toString('hex')).toBe(Buffer.concat([CLIENT_PING, CLIENT_CALL]).toString('hex'))
})

// Java's Protocol.toString() of flume.avdl: the same protocol as another JSON text, another hash.
const JAVA_PROTOCOL_TEXT = JSON.stringify({
  protocol: 'AvroSourceProtocol', namespace: 'org.apache.flume.source.avro', types: [
    { type: 'enum', name: 'Status', symbols: ['OK', 'FAILED', 'UNKNOWN'] },
    { type: 'record', name: 'AvroFlumeEvent', fields: [
      { name: 'headers', type: { type: 'map', values: 'string' } },
      { name: 'body', type: 'bytes' }] }],
  messages: {
    append: { request: [{ name: 'event', type: 'AvroFlumeEvent' }], response: 'Status' },
    appendBatch: { request: [{ name: 'events', type: { type: 'array', items: 'AvroFlumeEvent' } }],
      response: 'Status' },
  },
})
const JAVA_HASH = crypto.createHash('md5').update(JAVA_PROTOCOL_TEXT).digest()

function javaRequest(serial: number, withProtocol: boolean, body: string): Buffer {
  const handshake = HANDSHAKE_REQUEST_TYPE.toBuffer({ clientHash: JAVA_HASH,
    clientProtocol: withProtocol ? JAVA_PROTOCOL_TEXT : null, serverHash: JAVA_HASH, meta: null })
  return frame(serial, [handshake, appendBatchBody(body)])
}

function appendBatchBody(body: string): Buffer {
  return Buffer.concat([hex('00 16 617070656e644261746368 02 00'),
    Buffer.from([body.length * 2]), Buffer.from(body), hex('00')])
}

function frame(serial: number, buffers: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.alloc(8)]
  parts[0]!.writeInt32BE(serial, 0)
  parts[0]!.writeInt32BE(buffers.length, 4)
  for (const buffer of buffers) {
    const length = Buffer.alloc(4)
    length.writeInt32BE(buffer.byteLength, 0)
    parts.push(length, buffer)
  }
  return Buffer.concat(parts)
}

it('serves a Java client: NONE with our protocol, then CLIENT once it sends its own', async () => {
  const { source, channel } = await startSource()
  const client = await rawClient(source.port)
  client.socket.write(javaRequest(7, false, 'first'))
  const header = await client.read(0, 12)
  expect(header.readInt32BE(0)).toBe(7)
  const noneLength = header.readInt32BE(8)
  const none = HANDSHAKE_RESPONSE_TYPE.fromBuffer(await client.read(12, noneLength)) as
    HandshakeResponse
  expect(none.match).toBe('NONE')
  expect(none.serverProtocol).toBe(FLUME_PROTOCOL_TEXT)
  expect(none.serverHash?.toString('hex')).toBe(HASH)
  expect(channel.size()).toBe(0)

  const offset = 12 + noneLength
  client.socket.write(javaRequest(8, true, 'first'))
  const reply = await client.read(offset, 12)
  expect(reply.readInt32BE(0)).toBe(8)
  expect(reply.readInt32BE(4)).toBe(2)
  const handshakeLength = reply.readInt32BE(8)
  const decoded = HANDSHAKE_RESPONSE_TYPE.decode(await client.read(offset + 12,
    handshakeLength), 0)
  expect((decoded.value as HandshakeResponse).match).toBe('CLIENT')
  const bodyAt = offset + 12 + handshakeLength
  expect((await client.read(bodyAt, 7)).toString('hex')).toBe('00000003000000')

  // Connected: the next call has no handshake.
  client.socket.write(frame(9, [appendBatchBody('second')]))
  expect((await client.read(bodyAt + 7, 15)).toString('hex'))
    .toBe('00000009' + '00000001' + '00000003' + '000000')
  expect(await takeAll(channel, 10)).toEqual(['first', 'second'])
})

interface AvscEvent { headers: Record<string, string>; body: Buffer }

/**
 * avsc's own server for `service` on a loopback port, answering OK to every appendBatch after
 * handing its events to `onBatch`, and our client connected to it.
 */
async function clientOfAvscServer(service: { createServer(): unknown },
  onBatch: (events: AvscEvent[]) => void): Promise<AvroRpcClient> {
  const avscServer = service.createServer() as { createChannel(socket: net.Socket): unknown;
    onAppendBatch(fn: (events: AvscEvent[], cb: (e: unknown, s: string) => void) => void): void }
  avscServer.onAppendBatch((events, cb) => {
    onBatch(events)
    cb(null, 'OK')
  })
  const server = net.createServer((s) => avscServer.createChannel(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const client = await AvroRpcClient.connect({ host: '127.0.0.1',
    port: (server.address() as net.AddressInfo).port, connectTimeoutMs: 10_000,
    requestTimeoutMs: 10_000, compressionLevel: null, tls: null, limits: LIMITS })
  cleanups.push(() => client.close())
  return client
}

it('talks to avsc\'s own Netty codec in both directions', async () => {
  const { source, channel } = await startSource()
  const socket = net.connect(source.port, '127.0.0.1')
  const avscClient = FLUME_SERVICE.createClient()
  avscClient.createChannel(socket)
  cleanups.push(() => { avscClient.destroyChannels({ noWait: true }); socket.destroy() })
  const status = await new Promise((resolve, reject) => {
    (avscClient as unknown as { appendBatch: (events: unknown[], cb: (e: unknown,
      s: unknown) => void) => void }).appendBatch([{ headers: { k: 'v' }, body: Buffer.from('x') }],
    (error, answer) => error ? reject(error) : resolve(answer))
  })
  expect(status).toBe('OK')
  expect(await takeAll(channel, 10)).toEqual(['x'])

  const got: AvscEvent[] = []
  const client = await clientOfAvscServer(FLUME_SERVICE, (events) => got.push(...events))
  await client.appendBatch([{ headers: { a: '1' }, body: Buffer.from([0, 255, 7]) }])
  expect(got).toHaveLength(1)
  const [first] = got
  expect({ ...first!.headers }).toEqual({ a: '1' })
  expect([...first!.body]).toEqual([0, 255, 7])
})

it('serves the single-event append as well', async () => {
  const { source, channel } = await startSource()
  const client = await rawClient(source.port)
  client.socket.write(CLIENT_PING)
  await client.read(0, SERVER_PING_REPLY.byteLength)
  // meta {}, "append" (len 6 → 0x0c), then one AvroFlumeEvent: headers {} and body "one".
  client.socket.write(frame(2, [hex('00 0c 617070656e64 00 06 6f6e65')]))
  expect((await client.read(SERVER_PING_REPLY.byteLength, 15)).toString('hex'))
    .toBe('00000002' + '00000001' + '00000003' + '000000')
  expect(await takeAll(channel, 10)).toEqual(['one'])
  expect(source.counter.get('AppendAcceptedCount')).toBe(1)
})

it('goes through NONE and resends its protocol to an avsc server of another hash', async () => {
  const avro = (await import('avsc')).default
  const service = avro.Service.forProtocol(JSON.parse(JAVA_PROTOCOL_TEXT))
  expect(service.hash.equals(FLUME_PROTOCOL_HASH)).toBe(false)
  const got: string[] = []
  const client = await clientOfAvscServer(service,
    (events) => got.push(...events.map((e) => e.body.toString())))
  await client.appendBatch([{ headers: {}, body: Buffer.from('resolved') }])
  expect(got).toEqual(['resolved'])
})
