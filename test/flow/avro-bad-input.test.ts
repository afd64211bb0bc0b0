// Proves bad bytes on the Avro port close only their own connection, with the reason logged
// under a stable code, and never reach the channel or stop the source: netcat text, a frame
// announcing more than maxFrameBytes (refused before its payload is sent), a handshake that does
// not decode, a protocol text that is not JSON or lacks Flume's messages, an unknown message
// name (answered with an Avro system error first), an array count of 2^62, zlib garbage on a
// deflate source. A well-behaved client connected throughout keeps delivering, and a client
// that never reads its replies cannot hold the source's stop().
import * as net from 'node:net'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { encodeFrame } from '../../src/flow/avro/frame-codec.js'
import {
  FLUME_PROTOCOL_HASH, HANDSHAKE_REQUEST_TYPE, encodeCall,
} from '../../src/flow/avro/flume-protocol.js'
import { AvroRpcClient } from '../../src/flow/avro/rpc-client.js'
import {
  ProtocolCache, ServerConnection, type CallHandler,
} from '../../src/flow/avro/server-connection.js'
import { AvroWireErrorCode } from '../../src/flow/avro/wire-errors.js'
import { AvroSource } from '../../src/flow/sources/avro-source.js'
import { until } from '../helpers.js'
import { capturingLogger, processorFor, takeAll, type CapturingLogger } from './flow-helpers.js'

const LIMITS = { maxFrameBytes: 64 * 1024, maxBuffersPerFrame: 1024 }
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Fixture { source: AvroSource; channel: MemoryChannel; logger: CapturingLogger;
  good: AvroRpcClient }
let fixture: Fixture
let sent = 0

async function startSource(compression: boolean): Promise<Fixture> {
  const logger = capturingLogger()
  const channel = new MemoryChannel('c1', { capacity: 1000, transactionCapacity: 100,
    keepAliveSeconds: 0 })
  await channel.start()
  const source = new AvroSource('r1', processorFor(channel, logger), {
    bind: '127.0.0.1', port: 0, compression, tls: null, ipFilterRules: null, limits: LIMITS },
  logger)
  await source.start()
  const good = await AvroRpcClient.connect({ host: '127.0.0.1', port: source.port,
    connectTimeoutMs: 10_000, requestTimeoutMs: 10_000, compressionLevel: compression ? 6 : null,
    tls: null, limits: LIMITS })
  cleanups.push(() => source.stop(), () => channel.stop(), () => good.close())
  return { source, channel, logger, good }
}

beforeEach(async () => {
  sent = 0
  fixture = await startSource(false)
})

/** Sends `bytes` on a fresh connection; resolves with what came back once the server closed. */
async function sendAndWaitForClose(port: number, bytes: Buffer): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1')
  cleanups.push(() => { socket.destroy() })
  let received = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => { received = Buffer.concat([received, chunk]) })
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(bytes)
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() =>
    reject(new Error('the server did not close the connection')), 10_000))])
  return received
}

/** The good client still delivers, and the channel holds only what it sent. */
async function stillServing(f: Fixture): Promise<void> {
  const body = `good-${sent++}`
  await f.good.appendBatch([{ headers: {}, body: Buffer.from(body) }])
  expect(await takeAll(f.channel, 100)).toEqual([body])
}

function expectRefused(f: Fixture, code: string, detail: RegExp): void {
  const line = f.logger.warnings.find((w) => w.includes(code))
  expect(line, `a warning with ${code} in ${JSON.stringify(f.logger.warnings)}`).toBeDefined()
  expect(line).toMatch(detail)
}

const handshake = (fields: Partial<{ clientProtocol: string | null }>): Buffer =>
  HANDSHAKE_REQUEST_TYPE.toBuffer({ clientHash: Buffer.alloc(16, 1), clientProtocol: null,
    serverHash: FLUME_PROTOCOL_HASH, meta: null, ...fields })
const ourHandshake = (): Buffer => HANDSHAKE_REQUEST_TYPE.toBuffer({
  clientHash: FLUME_PROTOCOL_HASH, clientProtocol: null, serverHash: FLUME_PROTOCOL_HASH,
  meta: null })

/** A system error reply: serial, one buffer of meta {} + isError true + branch 0 + text. */
function systemError(reply: Buffer): string {
  expect(reply.byteLength).toBeGreaterThan(15)
  const message = reply.subarray(12)
  expect([...message.subarray(0, 3)]).toEqual([0x00, 0x01, 0x00])
  return message.subarray(4).toString('utf8')
}

it('closes a connection that types text on the Avro port', async () => {
  const reply = await sendAndWaitForClose(fixture.source.port, Buffer.from('hello world\n'))
  expect(reply.byteLength).toBe(0)
  expectRefused(fixture, AvroWireErrorCode.FRAME, /buffers/)
  await stillServing(fixture)
  expect(fixture.source.counter.get('EventReadFail')).toBe(1)
})

it('refuses an oversized frame from its header, before the payload is sent', async () => {
  const header = Buffer.alloc(12)
  header.writeInt32BE(1, 0)
  header.writeInt32BE(1, 4)
  header.writeInt32BE(1024 * 1024 * 1024, 8)
  await sendAndWaitForClose(fixture.source.port, header)
  expectRefused(fixture, AvroWireErrorCode.FRAME, /1073741824 bytes.*maxFrameBytes \(65536 bytes\)/)
  await stillServing(fixture)
})

it('answers a handshake that does not decode with a system error, then closes', async () => {
  // clientProtocol's union index 4 does not exist.
  const bad = Buffer.concat([Buffer.alloc(16, 1), Buffer.from([0x08])])
  const reply = await sendAndWaitForClose(fixture.source.port,
    Buffer.concat(encodeFrame(5, [bad])))
  expect(reply.readInt32BE(0)).toBe(5)
  expect(systemError(reply)).toMatch(/SLUICE_ERR_AVRO_HANDSHAKE.*union branch 4/)
  expectRefused(fixture, AvroWireErrorCode.HANDSHAKE, /union branch/)
  await stillServing(fixture)
})

it('refuses protocol texts that are not JSON or lack Flume\'s messages', async () => {
  const notJson = await sendAndWaitForClose(fixture.source.port, Buffer.concat(encodeFrame(1,
    [handshake({ clientProtocol: '{not json' }), encodeCall('', null)])))
  expect(systemError(notJson)).toMatch(/not an Avro protocol/)
  const other = JSON.stringify({ protocol: 'Other', messages: { hello: { request: [],
    response: 'string' } } })
  const otherReply = await sendAndWaitForClose(fixture.source.port, Buffer.concat(encodeFrame(2,
    [HANDSHAKE_REQUEST_TYPE.toBuffer({ clientHash: Buffer.alloc(16, 2), clientProtocol: other,
      serverHash: FLUME_PROTOCOL_HASH, meta: null }), encodeCall('', null)])))
  expect(systemError(otherReply)).toMatch(/neither append nor appendBatch/)
  await stillServing(fixture)
})

it('answers an unknown message name with a system error, then closes', async () => {
  const call = Buffer.concat([Buffer.from([0x00]), Buffer.from([0x0c]), Buffer.from('delete')])
  const reply = await sendAndWaitForClose(fixture.source.port,
    Buffer.concat(encodeFrame(3, [ourHandshake(), call])))
  expect(systemError(reply)).toMatch(/No such remote message: "delete"/)
  expectRefused(fixture, AvroWireErrorCode.MESSAGE, /delete/)
  await stillServing(fixture)
})

it('refuses an appendBatch announcing 2^62 events without hanging or touching the channel',
  async () => {
    const call = Buffer.concat([encodeCall('', null).subarray(0, 1),
      Buffer.from([0x16]), Buffer.from('appendBatch'),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      Buffer.from([0x00, 0x00])])
    await sendAndWaitForClose(fixture.source.port,
      Buffer.concat(encodeFrame(4, [ourHandshake(), call])))
    expectRefused(fixture, AvroWireErrorCode.MESSAGE, /block of \d+ items/)
    expect(fixture.channel.size()).toBe(0)
    await stillServing(fixture)
  })

it('closes a deflate connection that sends bytes that are not zlib', async () => {
  const deflating = await startSource(true)
  await sendAndWaitForClose(deflating.source.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'))
  expectRefused(deflating, AvroWireErrorCode.FRAME, /undecodable input/)
  await stillServing(deflating)
  await until('only the good client connected',
    () => deflating.source.counter.get('OpenConnectionCount') === 1)
})

/** A connection over a pipe whose output never drains: its client stopped reading. */
async function connectionToStuckClient(handle: CallHandler)
  : Promise<{ input: NodeJS.WritableStream; connection: ServerConnection; written: () => number }> {
  const { PassThrough } = await import('node:stream')
  const input = new PassThrough()
  let written = 0
  const pipe = { input, write: () => { written++; return false }, onceWritable: () => undefined,
    end: () => undefined }
  const socket = { destroyed: false, destroy: () => undefined } as unknown as net.Socket
  const connection = new ServerConnection(socket, pipe, LIMITS, new ProtocolCache(), handle,
    capturingLogger(), 'test', () => undefined)
  return { input, connection, written: () => written }
}

it('lets stop() finish while a client never reads its replies', async () => {
  const { input, connection, written } = await connectionToStuckClient(async () => 'OK')
  input.write(Buffer.concat(encodeFrame(0, [ourHandshake(), encodeCall('', null)])))
  await until('the ping answered', () => written() === 1)
  connection.stopReading()
  await connection.idle()
  expect(written()).toBe(1)
})

it('lets stop() finish when it arrives while a call is in the channel and the client never ' +
  'reads', async () => {
  let inChannel: (() => void) | null = null
  const { input, connection, written } = await connectionToStuckClient(
    () => new Promise((resolve) => { inChannel = () => resolve('OK') }))
  const batch = encodeCall('appendBatch', { events: [{ headers: {}, body: Buffer.from('e') }] })
  input.write(Buffer.concat(encodeFrame(0, [ourHandshake(), batch])))
  await until('the batch in the channel', () => inChannel !== null)
  connection.stopReading()
  inChannel!()
  const stopped = await Promise.race([connection.idle().then(() => 'idle'),
    new Promise((resolve) => setTimeout(() => resolve('still waiting after 2 s'), 2000))])
  expect(stopped).toBe('idle')
  expect(written()).toBe(1)
})
