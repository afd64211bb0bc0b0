// Proves the hdfs sink's file formats are the ones Hadoop tools read: SequenceFile v6 bytes
// match a header and records assembled by hand from the format spec (sync marker placement
// included) and parse back; gzip output is concatenated members that zlib and the gzip command
// read back exactly; lz4 output is Hadoop's block stream whose raw LZ4 blocks the lz4 command
// decodes; each decoder round-trips random batches and stops at the last whole unit of a file
// torn at any byte (the recovery rule), never reading past a length it does not trust.
import { execFileSync } from 'node:child_process'
import * as zlib from 'node:zlib'
import fc from 'fast-check'
import { compressSync } from 'lz4-napi'
import { describe, expect, it } from 'vitest'
import type { FlowEvent } from '../../src/flow/event.js'
import {
  newFormatWriter, repairBytes, type FormatSpec,
} from '../../src/flow/sinks/hdfs/file-format.js'
import { decodeGzipMembers, encodeGzipMember } from '../../src/flow/sinks/hdfs/gzip-members.js'
import {
  decodeLz4Blocks, encodeLz4Blocks, LZ4_MAX_INPUT_BYTES,
} from '../../src/flow/sinks/hdfs/hadoop-lz4.js'
import {
  decodeSequenceFile, decodeVInt, encodeVInt, SequenceFileWriter, type DecodedSequenceFile,
} from '../../src/flow/sinks/hdfs/sequence-file.js'

const ev = (body: string | Buffer, timestamp?: number): FlowEvent => ({
  headers: timestamp === undefined ? {} : { timestamp: String(timestamp) },
  body: typeof body === 'string' ? Buffer.from(body) : body,
})

const spec = (extra: Partial<FormatSpec>): FormatSpec => ({ fileType: 'DataStream', codec: null,
  appendNewline: true, writeFormat: 'Writable', ...extra })

/** Writes batches through a format writer; returns the file's bytes and each batch's end. */
function writeFile(format: FormatSpec, batches: FlowEvent[][], nowMs = () => 42)
  : { bytes: Buffer; batchEnds: number[] } {
  const writer = newFormatWriter(format, nowMs)
  const parts = [writer.header()]
  const batchEnds: number[] = []
  let size = parts[0]!.length
  for (const batch of batches) {
    for (const event of batch) writer.append(event)
    for (const buffer of writer.takeBatch()) { parts.push(buffer); size += buffer.length }
    batchEnds.push(size)
  }
  return { bytes: Buffer.concat(parts), batchEnds }
}

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex')
const ascii = (text: string) => Buffer.from(text, 'latin1')

function decoded(bytes: Buffer): DecodedSequenceFile {
  const result = decodeSequenceFile(bytes)
  if (typeof result === 'string') throw new Error(result)
  return result
}

describe('SequenceFile', () => {
  it('writes the v6 header and LongWritable/BytesWritable records byte for byte', () => {
    const writer = new SequenceFileWriter('Writable', () => 7)
    const header = writer.header()
    writer.append(ev('hi', 1000))
    writer.append(ev('', undefined))
    const bytes = Buffer.concat([header, ...writer.takeBatch()])
    const expected = Buffer.concat([
      ascii('SEQ'), hex('06'),
      hex('21'), ascii('org.apache.hadoop.io.LongWritable'),
      hex('22'), ascii('org.apache.hadoop.io.BytesWritable'),
      hex('00 00'), hex('00000000'), writer.sync,
      // record: length 14 = key 8 + value 6, key length 8, key 1000, value: i32 2 + "hi"
      hex('0000000e 00000008 00000000000003e8 00000002'), ascii('hi'),
      // no timestamp header: the key is the clock (7); an empty body is a 4-byte length
      hex('0000000c 00000008 0000000000000007 00000000'),
    ])
    expect(bytes.toString('hex')).toBe(expected.toString('hex'))
    expect(decoded(bytes).records).toEqual([{ key: 1000n, value: Buffer.from('hi') },
      { key: 7n, value: Buffer.alloc(0) }])
  })

  it('writes Text values (writeFormat = Text) as a vint length and the bytes', () => {
    const writer = new SequenceFileWriter('Text', () => 0)
    const header = writer.header()
    writer.append(ev('hi', 1000))
    const bytes = Buffer.concat([header, ...writer.takeBatch()])
    expect(bytes.subarray(4 + 34, 4 + 34 + 26).toString('latin1'))
      .toBe('\x19org.apache.hadoop.io.Text')
    // record: length 11 = key 8 + vint 1 + 2 bytes, key length 8, key 1000, vint 2, "hi"
    expect(bytes.subarray(-19)).toEqual(Buffer.concat([hex('0000000b 00000008'),
      hex('00000000000003e8 02'), ascii('hi')]))
    expect(decoded(bytes).valueClass).toBe('org.apache.hadoop.io.Text')
    expect(decoded(bytes).records[0]!.value.toString()).toBe('hi')
  })

  it('puts a sync escape and the marker before the first record past each 2000 bytes', () => {
    const writer = new SequenceFileWriter('Writable', () => 0)
    const header = writer.header() // 95 bytes
    const body = Buffer.alloc(100, 0x61) // each record: 8 + 8 + 4 + 100 = 120 bytes
    for (let i = 0; i < 40; i++) writer.append(ev(body, i))
    const bytes = Buffer.concat([header, ...writer.takeBatch()])
    expect(header.length).toBe(95)
    // 95 + 16 × 120 = 2015 ≥ 2000: record 16 is preceded by the first sync point.
    const syncAt = 95 + 16 * 120
    expect(bytes.readInt32BE(syncAt)).toBe(-1)
    expect(bytes.subarray(syncAt + 4, syncAt + 20)).toEqual(writer.sync)
    expect(bytes.readBigInt64BE(syncAt + 20 + 8)).toBe(16n)
    const second = syncAt + 20 + 17 * 120 // next one once 2000 more bytes have passed
    expect(bytes.readInt32BE(second)).toBe(-1)
    expect(decoded(bytes).records.map((r) => r.key)).toEqual(
      Array.from({ length: 40 }, (_, i) => BigInt(i)))
  })

  it('round-trips Hadoop vints and random batches of records', () => {
    const values = [0, 1, -1, 127, -112, 128, -113, 255, 256, 65_535, 2 ** 31 - 1, -(2 ** 31)]
    for (const value of values) {
      const encoded = encodeVInt(value)
      expect(decodeVInt(encoded, 0)).toEqual({ value, size: encoded.length })
    }
    fc.assert(fc.property(fc.array(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      { maxLength: 6 }), fc.constantFrom('Writable', 'Text'), (batches, writeFormat) => {
      const events = batches.map((batch) => batch.map((body, i) => ev(Buffer.from(body), i)))
      const { bytes } = writeFile(spec({ fileType: 'SequenceFile',
        writeFormat: writeFormat as 'Writable' | 'Text' }), events)
      const file = decoded(bytes)
      expect(file.stoppedAt).toBeNull()
      expect(file.records.map((r) => r.value)).toEqual(events.flat().map((e) => e.body))
    }))
  })

  it('stops at the last whole record of a file torn at any byte, or corrupted', () => {
    const { bytes, batchEnds } = writeFile(spec({ fileType: 'SequenceFile' }),
      [[ev('one', 1), ev('two', 2)], [ev('three', 3)]])
    const recordEnds = [95, 95 + 23, 95 + 46, bytes.length]
    for (let cut = 95; cut <= bytes.length; cut++) {
      const file = decoded(bytes.subarray(0, cut))
      const whole = recordEnds.filter((end) => end <= cut)
      expect(file.validBytes, `cut at ${cut}`).toBe(whole.at(-1))
      expect(file.records.length).toBe(whole.length - 1)
    }
    expect(batchEnds).toEqual([95 + 46, bytes.length])
    expect(decodeSequenceFile(bytes.subarray(0, 50))).toMatch(/torn/)
    const badKeyLength = Buffer.from(bytes)
    badKeyLength.writeInt32BE(9, 95 + 4)
    expect(decoded(badKeyLength)).toMatchObject({ validBytes: 95, stoppedAt: /bad record/ })
    const hugeLength = Buffer.from(bytes)
    hugeLength.writeInt32BE(0x7fff_ffff, 95 + 23)
    expect(decoded(hugeLength)).toMatchObject({ validBytes: 95 + 23, stoppedAt: 'torn record' })
    expect(decodeSequenceFile(Buffer.from('SEQ\x05'))).toMatch(/not a version 6/)
  })
})

describe('gzip (CompressedStream, codeC = gzip)', () => {
  const format = spec({ fileType: 'CompressedStream', codec: 'gzip' })
  const batches = [[ev('alpha'), ev('beta')], [ev('gamma')], [ev('x'.repeat(5000))]]
  const text = 'alpha\nbeta\ngamma\n' + 'x'.repeat(5000) + '\n'

  it('writes one member per batch that zlib and the gzip command decompress exactly', () => {
    const { bytes } = writeFile(format, batches)
    expect(zlib.gunzipSync(bytes).toString()).toBe(text)
    expect(execFileSync('gzip', ['-dc'], { input: bytes }).toString()).toBe(text)
    const members = decodeGzipMembers(bytes)
    expect(members).toMatchObject({ members: 3, validBytes: bytes.length, stoppedAt: null })
  })

  it('keeps the whole members of a file torn at any byte; every kept prefix gunzips', () => {
    const { bytes, batchEnds } = writeFile(format, batches.slice(0, 2))
    for (let cut = 0; cut <= bytes.length; cut++) {
      const kept = decodeGzipMembers(bytes.subarray(0, cut))
      const wholeMembers = [0, ...batchEnds].filter((end) => end <= cut)
      expect(kept.validBytes, `cut at ${cut}`).toBe(wholeMembers.at(-1))
      if (kept.validBytes > 0) {
        expect(zlib.gunzipSync(bytes.subarray(0, kept.validBytes)).toString())
          .toBe(kept.data.toString())
      }
    }
    const flipped = Buffer.from(bytes)
    flipped[batchEnds[0]! + 25]! ^= 0xff
    expect(decodeGzipMembers(flipped)).toMatchObject({ validBytes: batchEnds[0], members: 1 })
  })

  it('round-trips random data', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), (data) => {
      const member = Buffer.concat(encodeGzipMember(Buffer.from(data)))
      expect(zlib.gunzipSync(member)).toEqual(Buffer.from(data))
      expect(decodeGzipMembers(member).data).toEqual(Buffer.from(data))
    }))
  })
})

/** Hadoop's blocks as the lz4 command's legacy format: magic, then u32le size + raw block. */
function asLegacyLz4(bytes: Buffer): Buffer {
  const parts: Buffer[] = [hex('02214c18')]
  for (let offset = 0; offset < bytes.length;) {
    const blockBytes = bytes.readUInt32BE(offset)
    offset += 4
    for (let produced = 0; produced < blockBytes;) {
      const chunkBytes = bytes.readUInt32BE(offset)
      const size = Buffer.alloc(4)
      size.writeUInt32LE(chunkBytes)
      parts.push(size, bytes.subarray(offset + 4, offset + 4 + chunkBytes))
      offset += 4 + chunkBytes
      produced += Math.min(blockBytes - produced, LZ4_MAX_INPUT_BYTES)
    }
  }
  return Buffer.concat(parts)
}

describe('lz4 (CompressedStream, codeC = lz4: Hadoop Lz4Codec block stream)', () => {
  const format = spec({ fileType: 'CompressedStream', codec: 'lz4' })

  it('frames each batch as blocks of at most 256 KiB − overhead, raw LZ4 inside', () => {
    const big = Buffer.alloc(600_000)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251
    const { bytes, batchEnds } = writeFile(format, [[ev('small')], [ev(big)]])
    // Batch 1: one block of 6 bytes ("small\n"), one chunk.
    expect(bytes.readUInt32BE(0)).toBe(6)
    const firstChunk = bytes.readUInt32BE(4)
    expect(batchEnds[0]).toBe(8 + firstChunk)
    // Batch 2: 600 001 bytes in blocks of 261 100, 261 100 and 77 801.
    const sizes: number[] = []
    for (let at = batchEnds[0]!; at < bytes.length; at += 8 + bytes.readUInt32BE(at + 4)) {
      sizes.push(bytes.readUInt32BE(at))
    }
    expect(LZ4_MAX_INPUT_BYTES).toBe(262_144 - (1028 + 16))
    expect(sizes).toEqual([261_100, 261_100, 77_801])
    const text = Buffer.concat([Buffer.from('small\n'), big, Buffer.from('\n')])
    expect(decodeLz4Blocks(bytes)).toMatchObject({ validBytes: bytes.length, stoppedAt: null })
    expect(decodeLz4Blocks(bytes).data.equals(text)).toBe(true)
    // An independent LZ4 decoder (the lz4 command) reads the raw blocks.
    const viaCli = execFileSync('lz4', ['-dc'], { input: asLegacyLz4(bytes) })
    expect(viaCli.equals(text)).toBe(true)
  })

  it('reads a block split into several chunks, as Hadoop writes a large write', () => {
    const data = Buffer.from('a'.repeat(300) + 'b'.repeat(300))
    const chunk = (part: Buffer) => {
      const raw = compressSync(part).subarray(4)
      const length = Buffer.alloc(4)
      length.writeUInt32BE(raw.length)
      return Buffer.concat([length, raw])
    }
    const block = Buffer.concat([hex('00000258'), chunk(data.subarray(0, 300)),
      chunk(data.subarray(300))])
    expect(decodeLz4Blocks(block).data.toString()).toBe(data.toString())
  })

  it('keeps the whole blocks of a file torn at any byte, and round-trips random data', () => {
    const { bytes, batchEnds } = writeFile(format, [[ev('one'), ev('two')], [ev('three')]])
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decodeLz4Blocks(bytes.subarray(0, cut)).validBytes, `cut at ${cut}`)
        .toBe([0, ...batchEnds].filter((e) => e <= cut).at(-1))
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4000 }), (data) => {
      const encoded = Buffer.concat(encodeLz4Blocks(Buffer.from(data)))
      expect(decodeLz4Blocks(encoded).data).toEqual(Buffer.from(data))
    }))
  })
})

describe('text (DataStream)', () => {
  it('writes bodies with newlines; cuts a torn last line; keeps a file without newlines', () => {
    const { bytes } = writeFile(spec({}), [[ev('a'), ev('bc')]])
    expect(bytes.toString()).toBe('a\nbc\n')
    expect(repairBytes(spec({}), Buffer.from('a\nbc\nde'))).toMatchObject({ validBytes: 5,
      hasEvents: true })
    expect(repairBytes(spec({}), Buffer.from('de'))).toMatchObject({ validBytes: 0,
      hasEvents: false })
    expect(repairBytes(spec({ appendNewline: false }), Buffer.from('abc')))
      .toMatchObject({ validBytes: 3, stoppedAt: null })
  })
})
