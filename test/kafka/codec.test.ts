// Proves the schema-table codec: every registered request and response schema round-trips at
// every advertised version, truncation always fails with a ProtocolError, bit flips never
// raise anything else, and claimed lengths are checked before anything is allocated.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { handlerFor, registeredHandlers } from '../../src/kafka/api/index.js'
import { decodeMessage, encodeMessage, type Struct } from '../../src/kafka/protocol/codec.js'
import { ProtocolError } from '../../src/kafka/protocol/errors.js'
import {
  decodeRequestHeaderTags, decodeRequestPrefix, encodeRequestHeader,
} from '../../src/kafka/protocol/headers.js'
import { Reader } from '../../src/kafka/protocol/reader.js'
import { array, field, message, type MessageSchema } from '../../src/kafka/protocol/schema.js'
import { Writer } from '../../src/kafka/protocol/writer.js'
import { seedFromEnv } from '../helpers.js'
import { expectedDecode, messageArbitrary } from './schema-arbitraries.js'

const seed = seedFromEnv('KAFKA_CODEC_SEED')

function encode(schema: MessageSchema, version: number, value: Struct): Buffer {
  const writer = new Writer(16)
  encodeMessage(schema, version, value, writer)
  return writer.toBuffer()
}

function decode(schema: MessageSchema, version: number, bytes: Buffer): Struct {
  return decodeMessage(schema, version, new Reader(bytes))
}

const cases = registeredHandlers().flatMap((handler) => {
  const versions: number[] = []
  for (let v = handler.minVersion; v <= handler.maxVersion; v++) versions.push(v)
  return [handler.request, handler.response].flatMap((schema) =>
    versions.map((version) => ({ schema, version, label: `${schema.name} v${version}` })))
})

describe('every schema at every advertised version', () => {
  it.each(cases)('$label round-trips', ({ schema, version }) => {
    fc.assert(fc.property(messageArbitrary(schema, version), (value) => {
      expect(decode(schema, version, encode(schema, version, value)))
        .toEqual(expectedDecode(schema, version, value))
    }), { seed, numRuns: 40 })
  })

  it.each(cases)('$label: every truncation throws ProtocolError', ({ schema, version }) => {
    fc.assert(fc.property(messageArbitrary(schema, version), (value) => {
      const bytes = encode(schema, version, value)
      for (let cut = 0; cut < bytes.length; cut++) {
        expect(() => decode(schema, version, bytes.subarray(0, cut))).toThrow(ProtocolError)
      }
    }), { seed, numRuns: 8 })
  })

  it.each(cases)('$label: bit flips decode or throw ProtocolError only', ({ schema, version }) => {
    const flipped = fc.tuple(messageArbitrary(schema, version), fc.nat(), fc.nat({ max: 7 }))
    fc.assert(fc.property(flipped, ([value, at, bit]) => {
      const bytes = encode(schema, version, value)
      if (bytes.length === 0) return
      bytes[at % bytes.length]! ^= 1 << bit
      try {
        decode(schema, version, bytes)
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError)
      }
    }), { seed, numRuns: 40 })
  })
})

describe('lengths are checked before allocating', () => {
  const schema = message({ name: 'Probe', apiKey: 99, validVersions: '0-1',
    flexibleVersions: '1+', fields: [array('items', [field('id', 'int32')]),
      field('name', 'string')] })

  it('a claimed array count larger than the frame fails at once', () => {
    const bytes = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1])
    expect(() => decode(schema, 0, bytes)).toThrow(/claims 2147483647 items/)
    // Flexible: unsigned varint 2^32−1 (count+1), 5 bytes.
    const compact = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0])
    expect(() => decode(schema, 1, compact)).toThrow(ProtocolError)
  })

  it('a claimed string length past the end fails', () => {
    const bytes = Buffer.from([0, 0, 0, 0, 0x75, 0x30, 0x61])
    expect(() => decode(schema, 0, bytes)).toThrow(/needs 30000 bytes/)
  })

  it('an over-long varint fails', () => {
    const bytes = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])
    expect(() => decode(schema, 1, bytes)).toThrow(/longer than 5 bytes/)
  })

  it('left-over bytes fail', () => {
    expect(() => decode(schema, 0, Buffer.from([0, 0, 0, 0, 0, 0, 9])))
      .toThrow(/left over/)
  })
})

describe('headers and golden bytes', () => {
  it('request headers v1 and v2 round-trip, null client id included', () => {
    for (const flexible of [false, true]) {
      for (const clientId of [null, '', 'kafkajs', 'ünïcode']) {
        const writer = new Writer()
        encodeRequestHeader(writer,
          { apiKey: 3, apiVersion: 8, correlationId: 77, clientId }, flexible)
        const reader = new Reader(writer.toBuffer())
        expect(decodeRequestPrefix(reader))
          .toEqual({ apiKey: 3, apiVersion: 8, correlationId: 77, clientId })
        if (flexible) decodeRequestHeaderTags(reader)
        reader.expectEnd('header')
      }
    }
  })

  it("decodes librdkafka's ApiVersions v3 request as captured on the wire", () => {
    const bytes = Buffer.concat([
      Buffer.from([0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]),
      Buffer.from([0x00, 0x07]), Buffer.from('rdkafka'), Buffer.from([0x00]),
      Buffer.from([0x0b]), Buffer.from('librdkafka'), Buffer.from([0x06]), Buffer.from('2.0.2'),
      Buffer.from([0x00]),
    ])
    const reader = new Reader(bytes)
    expect(decodeRequestPrefix(reader).clientId).toBe('rdkafka')
    decodeRequestHeaderTags(reader)
    expect(decodeMessage(handlerFor(18)!.request, 3, reader))
      .toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' })
  })

  it('skips unknown tagged fields and reads known ones', () => {
    const response = handlerFor(18)!.response
    const body = Buffer.from([0, 0, 1, 0, 0, 0, 0,
      2, 7, 2, 0xaa, 0xbb, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5])
    expect(decode(response, 3, body))
      .toEqual({ errorCode: 0, apiKeys: [], throttleTimeMs: 0, finalizedFeaturesEpoch: 5 })
  })

  it('writes record batch views as they are, in order, without copying them', () => {
    const fetch = handlerFor(1)!.response
    const big = Buffer.alloc(4096, 7)
    const writer = new Writer()
    encodeMessage(fetch, 11, { responses: [{ topic: 't', partitions: [{
      partitionIndex: 0, abortedTransactions: [], records: [big, Buffer.from([1, 2])],
    }] }] }, writer)
    const chunks = writer.finish()
    expect(chunks).toContain(big)
    const decoded = decode(fetch, 11, Buffer.concat(chunks))
    const partition = (decoded.responses as Struct[])[0]!.partitions as Struct[]
    expect(partition[0]!.records).toEqual(Buffer.concat([big, Buffer.from([1, 2])]))
  })
})
