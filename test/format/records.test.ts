// Proves the records-section decoder checks every length, count and offsetDelta before slicing,
// and names the offending field in its SLUICE_ERR_CORRUPT_BATCH message.
import { describe, expect, it } from 'vitest'
import { decodeRecords, type RecordsContext } from '../../src/format/records.js'
import { varintBytes, writeVarint } from '../../src/format/varint.js'
import { expectSluice } from './arbitraries.js'

/** Encodes numbers as zig-zag varints and passes Buffers through. */
function bytes(...parts: (number | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((part) => {
    if (Buffer.isBuffer(part)) return part
    const out = Buffer.alloc(varintBytes(part))
    writeVarint(out, 0, part)
    return out
  }))
}

/** One record: a length varint, then the body (attributes 0 first). */
function record(...body: (number | Buffer)[]): Buffer {
  const encodedBody = bytes(Buffer.from([0]), ...body)
  return bytes(encodedBody.length, encodedBody)
}

function context(recordsCount: number, lastOffsetDelta = recordsCount - 1): RecordsContext {
  return { recordsCount, baseOffset: 100, lastOffsetDelta, baseTimestamp: 1000,
    logAppendTimestamp: null }
}

const HEADERLESS = 0

describe('decodeRecords', () => {
  it('decodes hand-written records, nulls and empties included', () => {
    const section = Buffer.concat([
      record(5, 0, 1, Buffer.from('k'), 2, Buffer.from('vv'), HEADERLESS),
      record(-3, 1, -1, 0, 2, 1, Buffer.from('h'), -1, 2, Buffer.from('ü'), 0),
    ])
    const [first, second] = decodeRecords(section, context(2))
    expect(first).toMatchObject({ offset: 100, timestamp: 1005, headers: [] })
    expect(first!.key!.toString()).toBe('k')
    expect(first!.value!.toString()).toBe('vv')
    expect(second).toMatchObject({ offset: 101, timestamp: 997, key: null })
    expect(second!.value!.length).toBe(0)
    expect(second!.headers.map((header) => [header.key, header.value?.length ?? null]))
      .toEqual([['h', null], ['ü', 0]])
  })

  const corrupt: [string, Buffer, RecordsContext, RegExp][] = [
    ['a key longer than the record', record(0, 0, 50, Buffer.from('k'), -1, 0), context(1),
      /key length 50 does not fit/],
    ['a key length below -1', record(0, 0, -2, -1, 0), context(1), /key length -2/],
    ['a value longer than the record', record(0, 0, -1, 9, Buffer.from('v'), 0), context(1),
      /value length 9 does not fit/],
    ['a negative header count', record(0, 0, -1, -1, -5), context(1), /headerCount -5/],
    ['more headers than bytes', record(0, 0, -1, -1, 1_000_000), context(1),
      /headerCount 1000000 does not fit/],
    ['a null header key', record(0, 0, -1, -1, 1, -1, -1), context(1), /header key length -1/],
    ['a header value longer than the record', record(0, 0, -1, -1, 1, 1, Buffer.from('h'), 7),
      context(1), /header value length 7/],
    ['fields shorter than the record length', Buffer.concat([bytes(9), bytes(Buffer.from([0]),
      0, 0, -1, -1, 0, Buffer.alloc(3))]), context(1), /leaves 3 bytes unread/],
    ['a record length past the section', bytes(100, Buffer.alloc(10)), context(1),
      /record length 100/],
    ['a record length below the minimum body', bytes(2, Buffer.alloc(8)), context(1),
      /record length 2/],
    ['an offsetDelta past lastOffsetDelta', record(0, 3, -1, -1, 0), context(1, 2),
      /offsetDelta 3/],
    ['offsetDeltas out of order', Buffer.concat([record(0, 1, -1, -1, 0), record(0, 1, -1, -1, 0)]),
      context(2, 5), /offsetDelta 1 after 1/],
    ['a truncated timestampDelta', bytes(6, Buffer.from([0, 0x80, 0x80, 0x80, 0x80, 0x80])),
      context(1), /timestampDelta varint is truncated/],
    ['fewer records than recordsCount', Buffer.concat([record(0, 0, -1, -1, 0), Buffer.alloc(7)]),
      context(2), /record length/],
    ['bytes after the last record', Buffer.concat([record(0, 0, -1, -1, 0), Buffer.alloc(7)]),
      context(1), /recordsCount 1 records end at byte 7 of 14/],
    ['a recordsCount that cannot fit', record(0, 0, -1, -1, 0), context(2 ** 31 - 1),
      /cannot fit/],
  ]
  for (const [name, section, recordsContext, pattern] of corrupt) {
    it(`rejects ${name}`, () => {
      expectSluice(() => decodeRecords(section, recordsContext), 'SLUICE_ERR_CORRUPT_BATCH',
        pattern)
    })
  }

  it('uses the LogAppendTime timestamp for every record when given', () => {
    const section = Buffer.concat([record(5, 0, -1, -1, 0), record(9, 1, -1, -1, 0)])
    const records = decodeRecords(section, { ...context(2), logAppendTimestamp: 77 })
    expect(records.map((each) => each.timestamp)).toEqual([77, 77])
  })
})
