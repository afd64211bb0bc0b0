// Proves whole RecordBatch v2 encode/decode round-trips for every codec, writes a correct header,
// rejects CRC damage, and handles control, LogAppendTime, snappy/zstd and fetch-shaped input.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AssertionError } from '../../src/errors.js'
import {
  ATTRIBUTE_CONTROL, ATTRIBUTE_LOG_APPEND_TIME, BATCH_HEADER_BYTES, Codec, Field, verifyBatch,
} from '../../src/format/batch-header.js'
import {
  countBatchRecords, decodeBatch, decodeBatches, encodeBatch, recompressBatch,
} from '../../src/format/record-batch.js'
import type { CompressionName } from '../../src/engine/types.js'
import {
  editBatch, errorOf, expectSameRecords, expectSluice, expectedRecords, recordList,
} from './arbitraries.js'

const NOW = 1_700_000_000_000
const CODECS: CompressionName[] = ['none', 'gzip', 'lz4']

function headerView(batch: Buffer): DataView {
  return new DataView(batch.buffer, batch.byteOffset, BATCH_HEADER_BYTES)
}

describe('round trip', () => {
  for (const compression of CODECS) {
    it(`${compression}: decode(encode(records)) gives the records back`, () => {
      fc.assert(fc.property(recordList, fc.nat({ max: 2 ** 40 }), (records, baseOffset) => {
        const batch = encodeBatch(records, { compression, baseOffset, now: NOW })
        const { header, records: decoded } = decodeBatch(batch)
        expect(header.codec).toBe(Codec[compression])
        expect(header.sizeBytes).toBe(batch.length)
        expectSameRecords(decoded, expectedRecords(records, baseOffset, NOW))
      }), { numRuns: 120 })
    })
  }

  it('writes every header field as Kafka defines it', () => {
    fc.assert(fc.property(recordList, (records) => {
      const batch = encodeBatch(records, {
        baseOffset: 42, producerId: 9, producerEpoch: 3, baseSequence: 17,
        partitionLeaderEpoch: 5, now: NOW,
      })
      const view = headerView(batch)
      const timestamps = records.map((record) => record.timestamp ?? NOW)
      expect(view.getBigInt64(Field.baseOffset)).toBe(42n)
      expect(view.getInt32(Field.batchLength)).toBe(batch.length - 12)
      expect(view.getInt32(Field.partitionLeaderEpoch)).toBe(5)
      expect(view.getInt8(Field.magic)).toBe(2)
      expect(view.getInt16(Field.attributes)).toBe(0)
      expect(view.getInt32(Field.lastOffsetDelta)).toBe(records.length - 1)
      expect(Number(view.getBigInt64(Field.baseTimestamp))).toBe(timestamps[0])
      expect(Number(view.getBigInt64(Field.maxTimestamp))).toBe(Math.max(...timestamps))
      expect(view.getBigInt64(Field.producerId)).toBe(9n)
      expect(view.getInt16(Field.producerEpoch)).toBe(3)
      expect(view.getInt32(Field.baseSequence)).toBe(17)
      expect(view.getInt32(Field.recordsCount)).toBe(records.length)
      expect(verifyBatch(batch).crc).toBe(view.getUint32(Field.crc))
    }), { numRuns: 50 })
  })

  it('defaults: not idempotent, no leader epoch, missing timestamps from options.now', () => {
    const batch = encodeBatch([{ value: 'a' }, { value: 'b', timestamp: NOW + 5 }], { now: NOW })
    const view = headerView(batch)
    expect(view.getBigInt64(Field.producerId)).toBe(-1n)
    expect(view.getInt16(Field.producerEpoch)).toBe(-1)
    expect(view.getInt32(Field.baseSequence)).toBe(-1)
    expect(view.getInt32(Field.partitionLeaderEpoch)).toBe(-1)
    expect(decodeBatch(batch).records.map((record) => record.timestamp)).toEqual([NOW, NOW + 5])
  })

  it('returns keys and values as views of the batch, not copies', () => {
    const batch = encodeBatch([{ key: 'k', value: Buffer.from('value'), headers: { h: 'v' } }])
    const [record] = decodeBatch(batch).records
    expect(record!.key!.buffer).toBe(batch.buffer)
    expect(record!.value!.buffer).toBe(batch.buffer)
    expect(record!.headers[0]!.value!.buffer).toBe(batch.buffer)
  })

  it('decodes a batch held in a SharedArrayBuffer (the tail window)', () => {
    const batch = encodeBatch([{ value: 'shared' }, { value: null }])
    const shared = new Uint8Array(new SharedArrayBuffer(batch.length + 16), 8, batch.length)
    shared.set(batch)
    const records = decodeBatch(shared).records
    expect(records[0]!.value!.toString()).toBe('shared')
    expect(records[0]!.value!.buffer).toBe(shared.buffer)
  })

  it('owns its memory, so a postMessage copies the batch and not an 8 KiB pool', () => {
    for (const compression of CODECS) {
      const batch = encodeBatch([{ value: 'small' }], { compression })
      expect(batch.byteOffset).toBe(0)
      expect(batch.buffer.byteLength).toBe(batch.length)
    }
  })
})

describe('encode input checks', () => {
  it('refuses an empty batch', () => {
    expectSluice(() => encodeBatch([]), 'SLUICE_ERR_INVALID_CONFIG', /at least one record/)
  })

  it('refuses fields, timestamps and options of the wrong type or range', () => {
    const bad: [() => unknown, RegExp][] = [
      [() => encodeBatch([{ value: 5 as unknown as string }]), /record 0 value/],
      [() => encodeBatch([{ value: 'a', headers: [{ key: 1 as unknown as string, value: null }] }]),
        /header key/],
      [() => encodeBatch([{ value: 'a', timestamp: 1.5 }]), /record 0 timestamp 1.5/],
      [() => encodeBatch([{ value: 'a' }], { baseTimestamp: 1.5 }), /baseTimestamp 1.5/],
      [() => encodeBatch([{ value: 'a', timestamp: 2 ** 53 }]), /timestamp/],
      [() => encodeBatch([{ value: 'a', timestamp: 2 ** 52 },
        { value: 'b', timestamp: -(2 ** 52) }]), /too far/],
      [() => encodeBatch([{ value: 'a' }], { producerEpoch: 40_000 }), /producerEpoch/],
      [() => encodeBatch([{ value: 'a' }], { baseSequence: 2 ** 31 }), /baseSequence/],
      [() => encodeBatch([{ value: 'a' }], { baseOffset: Number.NaN }), /baseOffset/],
      [() => encodeBatch([{ value: 'a' }], { compression: 'zstd' as CompressionName }), /zstd/],
    ]
    for (const [action, pattern] of bad) expectSluice(action, 'SLUICE_ERR_INVALID_CONFIG', pattern)
  })
})

describe('integrity', () => {
  it('rejects any single bit flipped in the CRC-covered bytes [21, end)', () => {
    fc.assert(fc.property(recordList, fc.constantFrom(...CODECS), fc.nat(), fc.nat({ max: 7 }),
      (records, compression, at, bit) => {
        const batch = Buffer.from(encodeBatch(records, { compression }))
        const position = 21 + (at % (batch.length - 21))
        batch[position]! ^= 1 << bit
        // A flip in the header may trip a field check (negative lastOffsetDelta, codec 5..7)
        // before the CRC is computed; past the header only the CRC can notice.
        const pattern = position >= BATCH_HEADER_BYTES ? /CRC-32C mismatch/ : undefined
        expectSluice(() => decodeBatch(batch), 'SLUICE_ERR_CORRUPT_BATCH', pattern)
      }), { numRuns: 300 })
  })

  it('still rejects a bad CRC in the stored bytes when asked to skip it only on request', () => {
    const batch = Buffer.from(encodeBatch([{ value: 'x' }]))
    batch[Field.crc]! ^= 0xff
    expectSluice(() => decodeBatch(batch), 'SLUICE_ERR_CORRUPT_BATCH', /CRC/)
    expect(decodeBatch(batch, { verifyCrc: false }).records[0]!.value!.toString()).toBe('x')
  })

  it('rejects a recordsCount that disagrees with the records', () => {
    const batch = encodeBatch(['a', 'b', 'c'].map((letter) => ({ value: letter.repeat(20) })))
    const withCount = (count: number): Buffer =>
      editBatch(batch, (view) => view.setInt32(Field.recordsCount, count))
    expectSluice(() => decodeBatch(withCount(2)), 'SLUICE_ERR_CORRUPT_BATCH', /recordsCount 2/)
    expectSluice(() => decodeBatch(withCount(4)), 'SLUICE_ERR_CORRUPT_BATCH',
      /record length varint is truncated/)
    expectSluice(() => decodeBatch(withCount(2 ** 30)), 'SLUICE_ERR_CORRUPT_BATCH',
      /recordsCount 1073741824 cannot fit/)
  })

  it('rejects a batch whose length disagrees with its bytes', () => {
    const batch = encodeBatch([{ value: 'a' }])
    expectSluice(() => decodeBatch(batch.subarray(0, batch.length - 1)),
      'SLUICE_ERR_CORRUPT_BATCH', /batchLength/)
    expectSluice(() => decodeBatch(Buffer.concat([batch, Buffer.alloc(1)]), { verifyCrc: false }),
      'SLUICE_ERR_CORRUPT_BATCH', /batchLength/)
  })
})

describe('attributes', () => {
  it('a control batch decodes to no user records', () => {
    const batch = editBatch(encodeBatch([{ value: 'marker' }]),
      (view) => view.setInt16(Field.attributes, ATTRIBUTE_CONTROL))
    const decoded = decodeBatch(batch)
    expect(decoded.header.recordsCount).toBe(1)
    expect(decoded.records).toEqual([])
  })

  it('LogAppendTime gives every record the batch maxTimestamp', () => {
    const records = [{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }]
    const batch = editBatch(encodeBatch(records), (view) => {
      view.setInt16(Field.attributes, ATTRIBUTE_LOG_APPEND_TIME)
      view.setBigInt64(Field.maxTimestamp, 99n)
    })
    expect(decodeBatch(batch).records.map((record) => record.timestamp)).toEqual([99, 99])
  })

  it('snappy and zstd batches are storable (pass verifyBatch) but not decodable', () => {
    for (const codec of [Codec.snappy, Codec.zstd]) {
      const batch = editBatch(encodeBatch([{ value: 'opaque' }]),
        (view) => view.setInt16(Field.attributes, codec))
      expect(verifyBatch(batch).codec).toBe(codec)
      expectSluice(() => decodeBatch(batch), 'SLUICE_ERR_UNSUPPORTED_COMPRESSION')
    }
  })

  it('codec bits 5..7 are corrupt', () => {
    const batch = editBatch(encodeBatch([{ value: 'x' }]),
      (view) => view.setInt16(Field.attributes, 6))
    for (const verifyCrc of [true, false]) {
      expectSluice(() => decodeBatch(batch, { verifyCrc }), 'SLUICE_ERR_CORRUPT_BATCH', /codec 6/)
    }
  })

  it('caps decompressed size with maxDecompressedBytes', () => {
    const batch = encodeBatch([{ value: Buffer.alloc(100_000) }], { compression: 'lz4' })
    expectSluice(() => decodeBatch(batch, { maxDecompressedBytes: 50_000 }),
      'SLUICE_ERR_RECORD_TOO_LARGE')
    expect(decodeBatch(batch, { maxDecompressedBytes: 200_000 }).records.length).toBe(1)
  })
})

describe('decodeBatches (fetch-shaped input)', () => {
  const first = encodeBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { baseOffset: 0 })
  const second = encodeBatch([{ value: 'd' }, { value: 'e' }],
    { baseOffset: 3, compression: 'lz4' })
  const third = encodeBatch([{ value: 'f' }, { value: 'g' }],
    { baseOffset: 5, compression: 'gzip' })

  it('returns records from fromOffset on, stopping silently at a trailing partial batch', () => {
    const values = (bytes: Buffer, from: number): string[] =>
      decodeBatches(bytes, from).map((record) => `${record.offset}:${record.value!.toString()}`)
    const all = Buffer.concat([first, second, third])
    expect(values(all, 0)).toEqual(['0:a', '1:b', '2:c', '3:d', '4:e', '5:f', '6:g'])
    expect(values(all, 4)).toEqual(['4:e', '5:f', '6:g'])
    for (const cut of [1, 30, 61, third.length - 1]) {
      expect(values(all.subarray(0, all.length - cut), 1)).toEqual(['1:b', '2:c', '3:d', '4:e'])
    }
    expect(values(Buffer.alloc(0), 0)).toEqual([])
  })

  it('skips batches before fromOffset unread but throws on a whole corrupt batch it needs', () => {
    const damaged = Buffer.from(second)
    damaged[damaged.length - 1]! ^= 1
    const bytes = Buffer.concat([damaged, third])
    expect(decodeBatches(bytes, 5).map((record) => record.offset)).toEqual([5, 6])
    expectSluice(() => decodeBatches(bytes, 0), 'SLUICE_ERR_CORRUPT_BATCH', /CRC/)
  })

  it('countBatchRecords sums whole batches only', () => {
    const all = Buffer.concat([first, second, third])
    expect(countBatchRecords(all)).toBe(7)
    expect(countBatchRecords(all.subarray(0, all.length - 1))).toBe(5)
  })
})

describe('recompressBatch', () => {
  it('compresses the records and keeps every other header field', () => {
    fc.assert(fc.property(recordList, fc.constantFrom('gzip', 'lz4' as const), (records, codec) => {
      const plain = encodeBatch(records, {
        baseOffset: 7, producerId: 3, producerEpoch: 1, baseSequence: 4, now: NOW,
      })
      const compressed = recompressBatch(plain, codec)
      const header = verifyBatch(compressed)
      expect(header.codec).toBe(Codec[codec])
      for (const [start, end] of [[0, 8], [12, 17], [23, 61]] as const) {
        expect(compressed.subarray(start, end).equals(plain.subarray(start, end))).toBe(true)
      }
      expectSameRecords(decodeBatch(compressed).records, decodeBatch(plain).records)
    }), { numRuns: 60 })
  })

  it('never blesses a damaged batch with a fresh CRC, and refuses compressed input', () => {
    const damaged = Buffer.from(encodeBatch([{ value: 'payload' }]))
    damaged[damaged.length - 2]! ^= 4
    expectSluice(() => recompressBatch(damaged, 'lz4'), 'SLUICE_ERR_CORRUPT_BATCH', /CRC/)
    const already = encodeBatch([{ value: 'payload' }], { compression: 'gzip' })
    expect(errorOf(() => recompressBatch(already, 'lz4'))).toBeInstanceOf(AssertionError)
  })
})
