// Proves the Netty frame codec and the bounds check under the Avro decoding: any pack survives
// encode → arbitrary chunking → decode; a truncated stream yields nothing and no error; a pack
// announcing too many buffers or too many bytes is refused from its header, before its payload
// arrives; and hostile Avro counts (an array of 2^62 events over a few bytes) are refused
// instead of hanging avsc, while every truncation of a valid call is refused or shorter.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkDatum } from '../../src/flow/avro/bounded-datum.js'
import { FrameDecoder, encodeFrame } from '../../src/flow/avro/frame-codec.js'
import { FLUME_SERVICE, encodeCall } from '../../src/flow/avro/flume-protocol.js'
import { AvroWireErrorCode, isAvroWireError } from '../../src/flow/avro/wire-errors.js'
import { seedFromEnv } from '../helpers.js'

const LIMITS = { maxFrameBytes: 64 * 1024, maxBuffersPerFrame: 64 }

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let start = 0
  for (const point of [...points, bytes.byteLength]) {
    chunks.push(bytes.subarray(start, point))
    start = point
  }
  return chunks
}

function wireCode(run: () => unknown): string {
  try {
    run()
  } catch (error) {
    if (isAvroWireError(error)) return error.code
    throw error
  }
  return 'none'
}

describe('frame codec', () => {
  const seed = seedFromEnv('SLUICE_AVRO_CODEC_SEED')
  const pack = fc.record({
    serial: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    buffers: fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }),
  })

  it('decodes any pack from any chunking, and several packs in a row', () => {
    fc.assert(fc.property(fc.array(pack, { minLength: 1, maxLength: 4 }),
      fc.array(fc.nat(), { maxLength: 12 }), (packs, cuts) => {
        const bytes = Buffer.concat(packs.flatMap((p) =>
          encodeFrame(p.serial, p.buffers.map((b) => Buffer.from(b)))))
        const decoder = new FrameDecoder(LIMITS)
        const out = chunked(bytes, cuts).flatMap((chunk) => decoder.push(chunk))
        expect(out.map((p) => [p.serial, p.message.toString('hex')])).toEqual(packs.map((p) =>
          [p.serial, Buffer.concat(p.buffers.map((b) => Buffer.from(b))).toString('hex')]))
        expect(decoder.bufferedBytes).toBe(0)
      }), { seed, numRuns: 200 })
  })

  it('holds a truncated pack without handing it out or failing', () => {
    fc.assert(fc.property(pack, fc.nat(), (p, cut) => {
      const bytes = Buffer.concat(encodeFrame(p.serial, p.buffers.map((b) => Buffer.from(b))))
      const decoder = new FrameDecoder(LIMITS)
      expect(decoder.push(bytes.subarray(0, cut % bytes.byteLength))).toEqual([])
    }), { seed, numRuns: 200 })
  })

  it('refuses bad buffer counts and oversized buffers from the header alone', () => {
    const header = (serial: number, count: number, length?: number): Buffer => {
      const bytes = Buffer.alloc(length === undefined ? 8 : 12)
      bytes.writeInt32BE(serial, 0)
      bytes.writeInt32BE(count, 4)
      if (length !== undefined) bytes.writeInt32BE(length, 8)
      return bytes
    }
    const decode = (bytes: Buffer) => () => new FrameDecoder(LIMITS).push(bytes)
    expect(wireCode(decode(header(1, 0)))).toBe(AvroWireErrorCode.FRAME)
    expect(wireCode(decode(header(1, -1)))).toBe(AvroWireErrorCode.FRAME)
    expect(wireCode(decode(header(1, 65)))).toBe(AvroWireErrorCode.FRAME)
    expect(wireCode(decode(header(1, 1, LIMITS.maxFrameBytes + 1)))).toBe(AvroWireErrorCode.FRAME)
    expect(wireCode(decode(header(1, 1, -5)))).toBe(AvroWireErrorCode.FRAME)
    // Two buffers that fit alone but not together.
    const half = LIMITS.maxFrameBytes / 2 + 1
    const first = Buffer.concat([header(1, 2, half), Buffer.alloc(half), Buffer.alloc(4)])
    first.writeInt32BE(half, 12 + half)
    expect(wireCode(decode(first))).toBe(AvroWireErrorCode.FRAME)
    // Netcat text on the Avro port: "hello wo" reads as a huge buffer count.
    expect(wireCode(decode(Buffer.from('hello world\n')))).toBe(AvroWireErrorCode.FRAME)
  })
})

describe('bounds check before avsc decodes', () => {
  const request = (FLUME_SERVICE as unknown as { message(name: string): { requestType:
    Parameters<typeof checkDatum>[0] } }).message('appendBatch')!.requestType
  const valid = encodeCall('appendBatch', { events: [
    { headers: { host: 'a', x: 'yy' }, body: Buffer.from('hello') },
    { headers: {}, body: Buffer.alloc(40, 7) }] })
  const paramsAt = 1 + 12

  it('passes a valid call and ends exactly at its last byte', () => {
    expect(checkDatum(request, valid, paramsAt, 'appendBatch')).toBe(valid.byteLength)
  })

  it('refuses a block count far above the bytes left', () => {
    // zig-zag 2^62: ten varint bytes.
    const hostile = Buffer.concat([valid.subarray(0, paramsAt),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
      Buffer.from([0, 0])])
    expect(wireCode(() => checkDatum(request, hostile, paramsAt, 'appendBatch')))
      .toBe(AvroWireErrorCode.MESSAGE)
    const longVarint = Buffer.concat([valid.subarray(0, paramsAt), Buffer.alloc(11, 0xff)])
    expect(wireCode(() => checkDatum(request, longVarint, paramsAt, 'appendBatch')))
      .toBe(AvroWireErrorCode.MESSAGE)
  })

  it('refuses every truncation and never reads past the end of a mutation', () => {
    for (let end = paramsAt; end < valid.byteLength; end++) {
      expect(wireCode(() => checkDatum(request, valid.subarray(0, end), paramsAt, 'cut')))
        .toBe(AvroWireErrorCode.MESSAGE)
    }
    const seed = seedFromEnv('SLUICE_AVRO_MUTATION_SEED')
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, byte) => {
      const mutated = Buffer.from(valid)
      mutated[paramsAt + (at % (valid.byteLength - paramsAt))] = byte
      let end = -1
      const code = wireCode(() => { end = checkDatum(request, mutated, paramsAt, 'mutated') })
      if (code === 'none') expect(end).toBeLessThanOrEqual(mutated.byteLength)
      else expect(code).toBe(AvroWireErrorCode.MESSAGE)
    }), { seed, numRuns: 500 })
  })
})
