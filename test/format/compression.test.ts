// Proves each codec round-trips, lz4 output is a Kafka-compatible (block-independent) LZ4 frame,
// decompression is capped exactly, and bad, truncated or unsupported input raises SluiceErrors.
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { compressFrameSync, compressSync } from 'lz4-napi'
import { beforeAll, describe, expect, it } from 'vitest'
import xxhash from 'xxhash-wasm'
import { isSluiceError, type ErrorCode } from '../../src/errors.js'
import { Codec } from '../../src/format/batch-header.js'
import { codecIdOf, compress, decompress } from '../../src/format/compression.js'
import { LZ4_FLG_BLOCK_INDEPENDENCE, readLz4Frame } from '../../src/format/lz4-frame.js'
import type { CompressionName } from '../../src/engine/types.js'

const MiB = 1024 * 1024
let xxh32: (bytes: Uint8Array, seed?: number) => number

beforeAll(async () => {
  xxh32 = (await xxhash()).h32Raw
})

function errorOf(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected the action to throw')
}

function expectSluice(action: () => unknown, code: ErrorCode, pattern?: RegExp): void {
  const error = errorOf(action)
  expect(isSluiceError(error, code), String(error)).toBe(true)
  if (pattern) expect((error as Error).message).toMatch(pattern)
}

/** Records-like bytes: a compressible mix of repeated text and random bytes. */
const recordsLike = fc.tuple(fc.uint8Array({ maxLength: 2000 }), fc.nat({ max: 40 }))
  .map(([noise, repeats]) => Buffer.concat([
    Buffer.from('{"level":"info","msg":"request served"}'.repeat(repeats)), noise,
  ]))

/** A one-block LZ4 frame around `block`, with a correct header checksum. */
function frameAround(flg: number, block: Buffer, stored: boolean): Buffer {
  const descriptor = Buffer.from([flg, 0x40])
  const hc = (xxh32(descriptor, 0) >>> 8) & 0xff
  const size = Buffer.alloc(4)
  size.writeUInt32LE((block.length | (stored ? 0x80000000 : 0)) >>> 0)
  return Buffer.concat([Buffer.from('04224d18', 'hex'), descriptor, Buffer.from([hc]), size,
    block, Buffer.alloc(4)])
}

describe('round trip', () => {
  for (const name of ['none', 'gzip', 'lz4'] as CompressionName[]) {
    it(`${name}: decompress(compress(x)) === x`, () => {
      const codec = codecIdOf(name)
      fc.assert(fc.property(recordsLike, (input) => {
        const output = decompress(codec, compress(codec, input), input.length)
        expect(output.equals(input)).toBe(true)
      }), { numRuns: 150 })
    })
  }

  it('lz4 handles frames of several blocks', () => {
    const input = Buffer.alloc(9 * MiB)
    for (let i = 0; i < input.length; i += 97) input[i] = i & 0xff
    const frame = compress(Codec.lz4, input)
    expect(readLz4Frame(frame, input.length).blocks.length).toBeGreaterThan(1)
    expect(decompress(Codec.lz4, frame, input.length).equals(input)).toBe(true)
  })

  it('lz4 passes stored (incompressible) blocks through', () => {
    let state = 0x9e3779b9
    const input = Buffer.from(Array.from({ length: 5000 }, () => {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      return state & 0xff
    }))
    const frame = compress(Codec.lz4, input)
    expect(readLz4Frame(frame, input.length).blocks[0]!.stored).toBe(true)
    expect(decompress(Codec.lz4, frame, input.length).equals(input)).toBe(true)
  })
})

describe('lz4 frame format', () => {
  it('lz4-napi writes version 01 frames with the block-independence bit Kafka requires', () => {
    for (const size of [0, 10, 70_000, 300_000, 2 * MiB]) {
      const frame = compress(Codec.lz4, Buffer.alloc(size, 'kafka '))
      expect(frame.readUInt32LE(0)).toBe(0x184d2204)
      const flg = frame[4]!
      expect(flg & 0xc0).toBe(0x40)
      expect(flg & LZ4_FLG_BLOCK_INDEPENDENCE).toBe(LZ4_FLG_BLOCK_INDEPENDENCE)
    }
  })

  it('decodes frames with checksum and content-size fields another producer may set', () => {
    const input = Buffer.from('hello lz4 '.repeat(50))
    const block = compressSync(input).subarray(4) // strip lz4-napi's length prefix
    const plain = frameAround(0x60, block, false)
    // FLG 0x7c: block checksums, content size, content checksum (values unchecked: the batch
    // CRC covers them); dependent blocks (FLG 0x40) go through lz4-napi's frame decoder.
    const contentSize = Buffer.alloc(8)
    contentSize.writeUInt32LE(input.length)
    const descriptor = Buffer.concat([Buffer.from([0x7c, 0x40]), contentSize])
    const checksummed = Buffer.concat([Buffer.from('04224d18', 'hex'), descriptor,
      Buffer.from([(xxh32(descriptor, 0) >>> 8) & 0xff]), plain.subarray(7, 11), block,
      Buffer.alloc(4), Buffer.alloc(4), Buffer.alloc(4)])
    const dependent = frameAround(0x40, block, false)
    for (const frame of [plain, checksummed, dependent]) {
      expect(decompress(Codec.lz4, frame, input.length).equals(input)).toBe(true)
    }
  })

  it('rejects a frame cut short, which lz4-napi on its own would accept', () => {
    const frame = compressFrameSync(Buffer.from('some records '.repeat(100)))
    for (const cut of [1, 3, 5, frame.length - 7]) {
      expectSluice(() => decompress(Codec.lz4, frame.subarray(0, frame.length - cut), MiB),
        'SLUICE_ERR_CORRUPT_BATCH', /lz4/)
    }
  })

  it('rejects trailing bytes, a wrong magic, reserved bits and dictionaries', () => {
    const frame = compressFrameSync(Buffer.from('some records '.repeat(100)))
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([frame, Buffer.from([0])]), /ends at byte/],
      [Buffer.concat([Buffer.from([5]), frame.subarray(1)]), /magic/],
      [Buffer.from(frame).fill(0x62, 4, 5), /FLG/],
      [Buffer.from(frame).fill(0x61, 4, 5), /dictionary/],
      [Buffer.from(frame).fill(0x30, 5, 6), /BD/],
    ]
    for (const [bytes, pattern] of cases) {
      expectSluice(() => decompress(Codec.lz4, bytes, MiB), 'SLUICE_ERR_CORRUPT_BATCH', pattern)
    }
  })

  it('rejects a block that decodes past the frame block maximum', () => {
    // 64 KiB maximum (BD 0x40), but this block's sequences describe 100 KB.
    const block = compressSync(Buffer.alloc(100_000, 7)).subarray(4)
    expectSluice(() => decompress(Codec.lz4, frameAround(0x60, block, false), MiB),
      'SLUICE_ERR_CORRUPT_BATCH', /decodes past 65536/)
  })
})

describe('decompression cap', () => {
  it('is exact for lz4 and gzip', () => {
    const input = Buffer.alloc(50_000, 'abc')
    for (const codec of [Codec.lz4, Codec.gzip]) {
      const compressed = compress(codec, input)
      expect(decompress(codec, compressed, input.length).length).toBe(input.length)
      expectSluice(() => decompress(codec, compressed, input.length - 1),
        'SLUICE_ERR_RECORD_TOO_LARGE', /maxOutputBytes/)
    }
  })

  it('refuses bombs before inflating them', () => {
    const lz4Bomb = compressFrameSync(Buffer.alloc(64 * MiB))
    const gzipBomb = gzipSync(Buffer.alloc(64 * MiB))
    expect(lz4Bomb.length).toBeLessThan(MiB)
    expectSluice(() => decompress(Codec.lz4, lz4Bomb, MiB), 'SLUICE_ERR_RECORD_TOO_LARGE')
    expectSluice(() => decompress(Codec.gzip, gzipBomb, MiB), 'SLUICE_ERR_RECORD_TOO_LARGE')
  })

  it('applies to uncompressed input too', () => {
    expectSluice(() => decompress(Codec.none, Buffer.alloc(10), 9), 'SLUICE_ERR_RECORD_TOO_LARGE')
  })
})

describe('bad input', () => {
  it('garbage is CORRUPT_BATCH for gzip and lz4', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      for (const codec of [Codec.gzip, Codec.lz4]) {
        const error = errorOf(() => decompress(codec, bytes, MiB))
        expect(isSluiceError(error, 'SLUICE_ERR_CORRUPT_BATCH'), String(error)).toBe(true)
      }
    }), { numRuns: 300 })
  })

  it('snappy and zstd are UNSUPPORTED_COMPRESSION both ways; unknown codecs are corrupt', () => {
    for (const codec of [Codec.snappy, Codec.zstd]) {
      expectSluice(() => compress(codec, Buffer.from('x')), 'SLUICE_ERR_UNSUPPORTED_COMPRESSION')
      expectSluice(() => decompress(codec, Buffer.from('x'), MiB),
        'SLUICE_ERR_UNSUPPORTED_COMPRESSION', codec === Codec.snappy ? /snappy/ : /zstd/)
    }
    expectSluice(() => decompress(5, Buffer.from('x'), MiB), 'SLUICE_ERR_CORRUPT_BATCH', /codec 5/)
  })

  it('codec names are checked', () => {
    expect(codecIdOf('lz4')).toBe(Codec.lz4)
    expectSluice(() => codecIdOf('toString' as CompressionName), 'SLUICE_ERR_INVALID_CONFIG')
    expectSluice(() => codecIdOf('zstd' as CompressionName), 'SLUICE_ERR_INVALID_CONFIG')
  })
})
