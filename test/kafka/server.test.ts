// Proves the TCP server over a real socket: framing across arbitrary splits, replies in request
// order (a long-polling Fetch is not overtaken), oversized frames refused before allocation,
// malformed frames closing only their connection, UNSUPPORTED_VERSION answers, acks=0 silence
// and reads pausing while a client does not read its replies.
import * as net from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeBatch } from '../../src/format/record-batch.js'
import type { Struct } from '../../src/kafka/protocol/codec.js'
import { Reader } from '../../src/kafka/protocol/reader.js'
import { decodeMessage } from '../../src/kafka/protocol/codec.js'
import { handlerFor } from '../../src/kafka/api/index.js'
import { until } from '../helpers.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { WireClient, encodeRequest } from './wire-client.js'

let fixture: BrokerFixture
const clients: WireClient[] = []

async function client(): Promise<WireClient> {
  const opened = await WireClient.connect(fixture.port)
  clients.push(opened)
  return opened
}

function fetchBody(topic: string, offset: number, maxWaitMs: number, partitionMaxBytes = 1 << 20)
  : Struct {
  return { replicaId: -1, maxWaitMs, minBytes: 1, maxBytes: 50 << 20, isolationLevel: 1,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes }] }],
    forgottenTopicsData: [], rackId: '' }
}

function produceBody(topic: string, batch: Buffer, acks = -1): Struct {
  return { transactionalId: null, acks, timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] }
}

function correlationIdOf(frame: Buffer | null): number {
  return frame!.readInt32BE(0)
}

beforeEach(async () => {
  fixture = await openBroker()
})

afterEach(async () => {
  for (const opened of clients.splice(0)) opened.close()
  await fixture.close()
})

describe('framing', () => {
  it('reassembles a request sent byte by byte, splits two sent in one write', async () => {
    const wire = await client()
    const request = encodeRequest(18, 2, 41, {})
    for (const byte of request) wire.sendRaw(Buffer.from([byte]))
    const first = await wire.reply(18, 2)
    expect(first.correlationId).toBe(41)
    expect(first.body.errorCode).toBe(0)
    wire.sendRaw(Buffer.concat([encodeRequest(18, 1, 42, {}), encodeRequest(3, 8, 43,
      { topics: [], allowAutoTopicCreation: false })]))
    expect((await wire.reply(18, 1)).correlationId).toBe(42)
    expect((await wire.reply(3, 8)).correlationId).toBe(43)
  })

  it('refuses a frame above maxRequestBytes before allocating it, and only that one', async () => {
    const other = await client()
    const wire = await client()
    const before = process.memoryUsage().arrayBuffers
    const prefix = Buffer.alloc(8)
    prefix.writeInt32BE(200 * 1024 * 1024)
    wire.sendRaw(prefix)
    expect(await wire.nextFrame()).toBeNull()
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
    const reason = fixture.entries.find((e) => e.message === 'closing connection')
    expect(String(reason?.extra.reason)).toMatch(/SLUICE_ERR_KAFKA_FRAME_SIZE.*209715200/)
    expect((await other.request(18, 2, {})).errorCode).toBe(0)
  })

  it('gathers a large frame only as its bytes arrive', async () => {
    const wire = await client()
    const before = process.memoryUsage().arrayBuffers
    const prefix = Buffer.alloc(6)
    prefix.writeInt32BE(90 * 1024 * 1024)
    wire.sendRaw(prefix)
    const probe = await client()
    expect((await probe.request(18, 2, {})).errorCode).toBe(0)
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024)
    expect(fixture.broker.connectionCount).toBe(2)
  })

  it('closes only the connection whose frame is malformed, logging why', async () => {
    const healthy = await client()
    const broken = await client()
    // Metadata v8 whose topic array claims 5 items and carries none.
    const frame = encodeRequest(3, 8, 7, { topics: [], allowAutoTopicCreation: false })
    frame.writeInt32BE(5, frame.length - 7)
    broken.sendRaw(frame)
    expect(await broken.nextFrame()).toBeNull()
    const reason = fixture.entries.find((e) => e.message === 'closing connection')
    expect(String(reason?.extra.reason)).toMatch(/SLUICE_ERR_KAFKA_MALFORMED_REQUEST.*topics/)
    const metadata = await healthy.request(3, 8, { topics: null })
    expect(metadata.brokers).toEqual([{ nodeId: 1, host: '127.0.0.1', port: fixture.port,
      rack: null }])
  })
})

describe('ordering', () => {
  it('answers in request order even when a long-polling Fetch finishes last', async () => {
    await fixture.log.createTopic('ordered', { partitions: 1 })
    const wire = await client()
    const started = Date.now()
    const fetchId = wire.send(1, 11, fetchBody('ordered', 0, 300))
    const metadataId = wire.send(3, 8, { topics: [{ name: 'ordered' }] })
    const versionsId = wire.send(18, 2, {})
    expect(correlationIdOf(await wire.nextFrame())).toBe(fetchId)
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    expect(correlationIdOf(await wire.nextFrame())).toBe(metadataId)
    expect(correlationIdOf(await wire.nextFrame())).toBe(versionsId)
  })

  it('wakes a parked Fetch as soon as a batch is produced', async () => {
    await fixture.log.createTopic('wake', { partitions: 1 })
    const consumer = await client()
    const producer = await client()
    const started = Date.now()
    consumer.send(1, 11, fetchBody('wake', 0, 20_000))
    const batch = encodeBatch([{ key: 'k', value: 'hello', timestamp: 1_700_000_000_000 }])
    const produced = await producer.request(0, 7, produceBody('wake', batch))
    expect(JSON.stringify(produced)).toContain('"errorCode":0')
    const { body } = await consumer.reply(1, 11)
    expect(Date.now() - started).toBeLessThan(10_000)
    const partition = ((body.responses as Struct[])[0]!.partitions as Struct[])[0]!
    expect(partition.highWatermark).toBe(1)
    expect((partition.records as Buffer).subarray(16)).toEqual(batch.subarray(16))
  })
})

describe('versions and acks', () => {
  it('answers an unsupported ApiVersions version in the v0 layout, listing ranges', async () => {
    const wire = await client()
    const request = encodeRequest(18, 2, 9, {})
    request.writeInt16BE(9, 6)
    wire.sendRaw(request)
    const frame = (await wire.nextFrame())!
    const reader = new Reader(frame)
    expect(reader.int32()).toBe(9)
    const body = decodeMessage(handlerFor(18)!.response, 0, reader)
    expect(body.errorCode).toBe(35)
    expect(body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 })
    expect(body.apiKeys).toContainEqual({ apiKey: 0, minVersion: 3, maxVersion: 8 })
  })

  it('answers other unsupported versions and keys with error 35 and stays open', async () => {
    const wire = await client()
    const produceV2 = encodeRequest(0, 3, 5, produceBody('x', Buffer.alloc(0)))
    produceV2.writeInt16BE(2, 6)
    const unknownKey = encodeRequest(18, 2, 6, {})
    unknownKey.writeInt16BE(1000, 4)
    wire.sendRaw(Buffer.concat([produceV2, unknownKey]))
    for (const id of [5, 6]) {
      const frame = (await wire.nextFrame())!
      expect(frame.readInt32BE(0)).toBe(id)
      expect(frame.readInt16BE(4)).toBe(35)
    }
    expect((await wire.request(18, 0, {})).errorCode).toBe(0)
  })

  it('stores acks=0 produce without replying, then answers the next request', async () => {
    await fixture.log.createTopic('silent', { partitions: 1 })
    const wire = await client()
    wire.send(0, 7, produceBody('silent', encodeBatch([{ value: 'a' }, { value: 'b' }]), 0))
    const versionsId = wire.send(18, 2, {})
    expect(correlationIdOf(await wire.nextFrame())).toBe(versionsId)
    expect(fixture.log.offsets('silent', 0).highWatermark).toBe(2)
  })
})

describe('backpressure', () => {
  it('bounds memory when a client pipelines Fetches of cold data and never reads', async () => {
    // 12 MB of sealed segments: each Fetch asking for everything reads all of it from the files.
    await fixture.log.createTopic('cold', { partitions: 1, segmentBytes: 2 * 1024 * 1024 })
    for (let i = 0; i < 12; i++) {
      await fixture.log.appendBatch('cold', 0, encodeBatch([{ value: Buffer.alloc(1000 * 1000, i) }]))
    }
    const socket = net.connect(fixture.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.pause()
    globalThis.gc?.()
    const baselineBytes = process.memoryUsage().arrayBuffers
    const requestCount = 40
    for (let id = 1; id <= requestCount; id++) {
      socket.write(encodeRequest(1, 11, id, fetchBody('cold', 0, 0, 0x7fffffff)))
    }
    await until('reads paused', () => fixture.broker.stats().pausedConnections === 1)
    await new Promise((resolve) => setTimeout(resolve, 200)) // let any started Fetch finish
    const heldBytes = process.memoryUsage().arrayBuffers - baselineBytes
    // Unbounded, 40 replies of 12 MiB each would be held (480 MiB); one Fetch at a time holds
    // one reply plus the socket's 8 MiB write bound.
    expect(heldBytes).toBeLessThan(64 * 1024 * 1024)
    const ids: number[] = []
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        ids.push(buffered.readInt32BE(4))
        buffered = buffered.subarray(4 + buffered.readInt32BE(0))
      }
    })
    socket.resume()
    await until('every reply read', () => ids.length === requestCount, 30_000)
    expect(ids).toEqual(Array.from({ length: requestCount }, (_, i) => i + 1))
    socket.destroy()
  })

  it('pauses reading while a client leaves its replies unread', async () => {
    await fixture.close()
    const writeLimit = 64 * 1024
    fixture = await openBroker({ maxWriteBufferBytes: writeLimit, maxInFlightRequests: 4 })
    await fixture.log.createTopic('big', { partitions: 1 })
    const batch = encodeBatch([{ value: Buffer.alloc(256 * 1024, 1) }])
    await fixture.log.appendBatch('big', 0, batch)
    const socket = net.connect(fixture.port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.pause()
    const requestCount = 60
    for (let id = 1; id <= requestCount; id++) {
      socket.write(encodeRequest(1, 11, id, fetchBody('big', 0, 0)))
    }
    await until('reads paused', () => fixture.broker.stats().pausedConnections === 1)
    const bound = writeLimit + 4 * (batch.length + 1024)
    expect(fixture.broker.stats().unsentReplyBytes).toBeLessThanOrEqual(bound)
    // Reading again drains every reply, in order and complete.
    const ids: number[] = []
    let buffered = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        const size = buffered.readInt32BE(0)
        expect(size).toBeGreaterThan(batch.length)
        expect(fixture.broker.stats().unsentReplyBytes).toBeLessThanOrEqual(bound)
        ids.push(buffered.readInt32BE(4))
        buffered = buffered.subarray(4 + size)
      }
    })
    socket.resume()
    await until('every reply read', () => ids.length === requestCount)
    expect(ids).toEqual(Array.from({ length: requestCount }, (_, i) => i + 1))
    socket.destroy()
  })
})
