// Proves varint/varlong/unsigned varint round-trip, match kafkajs byte for byte, and reject
// truncated or over-long input with SLUICE_ERR_CORRUPT_BATCH.
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import {
  ByteReader, unsignedVarintBytes, varintBytes, varlongBytes, writeUnsignedVarint, writeVarint,
  writeVarlong,
} from '../../src/format/varint.js'

const require = createRequire(import.meta.url)
// kafkajs has no types for its internals; these are its wire encoder and decoder.
const KafkaEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeVarInt(value: number): unknown
  writeVarLong(value: number): unknown
  writeUVarInt(value: number): unknown
  buffer: Buffer
}

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const safeInteger = fc.oneof(fc.maxSafeInteger(), int32, fc.integer({ min: -200, max: 200 }))
const uint32 = fc.integer({ min: 0, max: 0xffffffff })

function encodeWith(write: (target: Uint8Array, at: number, value: number) => number,
  value: number): Buffer {
  const target = Buffer.alloc(12)
  return target.subarray(0, write(target, 0, value))
}

function expectCorrupt(read: () => unknown, pattern: RegExp): void {
  let caught: unknown
  try {
    read()
  } catch (error) {
    caught = error
  }
  expect(isSluiceError(caught, 'SLUICE_ERR_CORRUPT_BATCH')).toBe(true)
  expect((caught as Error).message).toMatch(pattern)
}

describe('varint', () => {
  it('encodes the known zig-zag vectors', () => {
    const vectors: [number, string][] = [
      [0, '00'], [-1, '01'], [1, '02'], [63, '7e'], [-64, '7f'], [64, '8001'],
      [300, 'd804'], [0x7fffffff, 'feffffff0f'], [-0x80000000, 'ffffffff0f'],
    ]
    for (const [value, hex] of vectors) {
      expect(encodeWith(writeVarint, value).toString('hex')).toBe(hex)
    }
  })

  it('round-trips every int32, with the size varintBytes predicts, as kafkajs writes it', () => {
    fc.assert(fc.property(int32, (value) => {
      const bytes = encodeWith(writeVarint, value)
      expect(bytes.length).toBe(varintBytes(value))
      const encoder = new KafkaEncoder()
      encoder.writeVarInt(value)
      expect(bytes.equals(encoder.buffer)).toBe(true)
      const reader = new ByteReader(bytes)
      expect(reader.readVarint('v')).toBe(value)
      expect(reader.position).toBe(bytes.length)
    }), { numRuns: 2000 })
  })

  it('rejects a truncated varint, naming the field', () => {
    expectCorrupt(() => new ByteReader(Buffer.from([0x80, 0x80])).readVarint('keyLength'),
      /keyLength varint is truncated/)
    expectCorrupt(() => new ByteReader(Buffer.alloc(0)).readVarint('offsetDelta'),
      /offsetDelta varint is truncated/)
  })

  it('rejects a varint longer than 5 bytes or wider than 32 bits', () => {
    expectCorrupt(() => new ByteReader(Buffer.from('8080808010', 'hex')).readVarint('x'),
      /longer than 5 bytes/)
    expectCorrupt(() => new ByteReader(Buffer.from('ffffffff8f01', 'hex')).readVarint('x'),
      /longer than 5 bytes/)
  })

  it('never reads past the reader end even when the buffer continues', () => {
    const bytes = encodeWith(writeVarint, 1_000_000)
    expectCorrupt(() => new ByteReader(bytes, 0, bytes.length - 1).readVarint('v'), /truncated/)
  })
})

describe('varlong', () => {
  it('round-trips every safe integer as kafkajs writes it', () => {
    fc.assert(fc.property(safeInteger, (value) => {
      const bytes = encodeWith(writeVarlong, value)
      expect(bytes.length).toBe(varlongBytes(value))
      const encoder = new KafkaEncoder()
      encoder.writeVarLong(value)
      expect(bytes.toString('hex')).toBe(encoder.buffer.toString('hex'))
      const reader = new ByteReader(bytes)
      expect(reader.readVarlong('v')).toBe(value)
      expect(reader.position).toBe(bytes.length)
    }), { numRuns: 2000 })
  })

  it('round-trips the edges of the safe range', () => {
    for (const value of [2 ** 31, -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53) + 1]) {
      expect(new ByteReader(encodeWith(writeVarlong, value)).readVarlong('v')).toBe(value)
    }
  })

  it('rejects values beyond 2^53 and encodings longer than 10 bytes', () => {
    // zig-zag 2^54 + 2 decodes to 2^53 + 1, which a number cannot hold exactly.
    expectCorrupt(() => new ByteReader(Buffer.from('8280808080808020', 'hex'))
      .readVarlong('timestampDelta'), /timestampDelta varlong .* exceeds 2\^53/)
    // zig-zag 2^54 - 1 decodes to -2^53, exact in a double but not a safe integer.
    expectCorrupt(() => new ByteReader(Buffer.from('ffffffffffffff1f', 'hex')).readVarlong('t'),
      /exceeds 2\^53/)
    expectCorrupt(() => new ByteReader(Buffer.from('ffffffffffffffffff02', 'hex'))
      .readVarlong('timestampDelta'), /longer than 10 bytes/)
    expectCorrupt(() => new ByteReader(Buffer.from('ffffffff', 'hex')).readVarlong('t'),
      /truncated/)
  })
})

describe('unsigned varint', () => {
  it('round-trips every uint32 as kafkajs writes it', () => {
    fc.assert(fc.property(uint32, (value) => {
      const bytes = encodeWith(writeUnsignedVarint, value)
      expect(bytes.length).toBe(unsignedVarintBytes(value))
      const encoder = new KafkaEncoder()
      encoder.writeUVarInt(value)
      expect(bytes.equals(encoder.buffer)).toBe(true)
      expect(new ByteReader(bytes).readUnsignedVarint('v')).toBe(value)
    }), { numRuns: 2000 })
  })

  it('rejects more than 32 bits', () => {
    expectCorrupt(() => new ByteReader(Buffer.from('ffffffff1f', 'hex')).readUnsignedVarint('n'),
      /longer than 5 bytes/)
  })
})

describe('writers', () => {
  it('refuse values outside their type (a caller bug, not bad input)', () => {
    const target = Buffer.alloc(16)
    expect(() => writeVarint(target, 0, 2 ** 31)).toThrow(/not an int32/)
    expect(() => writeUnsignedVarint(target, 0, -1)).toThrow(/not a uint32/)
    expect(() => writeVarlong(target, 0, 2 ** 53)).toThrow(/not safe/)
    expect(() => writeVarint(Buffer.alloc(1), 0, 1000)).toThrow(/past the end/)
  })
})
