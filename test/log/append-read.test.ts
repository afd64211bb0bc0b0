// Proves a partition log's append/read contract: contiguous offsets rewritten in place, reads of
// whole batches bounded by maxBytes, locate at index boundaries, timeLookup, and typed rejection
// of bad batches with nothing written.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { Field } from '../../src/format/batch-header.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { FaultFileSystem } from '../../src/io/fault-file-system.js'
import type { PartitionLog } from '../../src/log/index.js'
import { tempDir } from '../helpers.js'
import { batch, fileBytes, openLog, readAll, valuesOf } from './log-test-kit.js'

let scratch: ReturnType<typeof tempDir>
let log: PartitionLog

beforeEach(() => {
  scratch = tempDir('sluice-log-')
  log = openLog(scratch.dir).log
})

afterEach(() => {
  log.close(false)
  scratch.remove()
})

function expectCode(run: () => unknown, code: string): void {
  let caught: unknown = null
  try {
    run()
  } catch (error) {
    caught = error
  }
  expect(isSluiceError(caught), String(caught)).toBe(true)
  expect((caught as { code: string }).code).toBe(code)
}

describe('append', () => {
  it('assigns contiguous offsets across calls and rewrites baseOffset in place', () => {
    const first = [batch('a', { count: 3 }), batch('b', { count: 2 })]
    const outcome = log.append(first)
    expect(outcome.batches.map((b) => [b.baseOffset, b.lastOffset])).toEqual([[0, 2], [3, 4]])
    expect(first[1]!.readBigInt64BE(Field.baseOffset)).toBe(3n)
    expect(first[1]!.readInt32BE(Field.partitionLeaderEpoch)).toBe(0)
    const second = log.append([batch('c', { count: 4 })])
    expect(second.batches[0]).toMatchObject({ baseOffset: 5, lastOffset: 8, position: 
      first[0]!.byteLength + first[1]!.byteLength })
    expect(log.logEndOffset).toBe(9)
    expect(readAll(log)).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'c-0', 'c-1', 'c-2', 'c-3'])
  })

  it('writes the batches of one call with a single writev', () => {
    log.close(false)
    const fs = new FaultFileSystem(new NodeFileSystem())
    log = openLog(scratch.dir, { fs }).log
    log.append(Array.from({ length: 20 }, (_, i) => batch(`w${i}`)))
    const logPath = log.activeSegment().path
    expect(fs.writevCalls.get(logPath)).toBe(1)
  })

  it('accepts views into a larger shared buffer and rewrites them there', () => {
    const one = batch('x')
    const shared = new Uint8Array(new SharedArrayBuffer(one.byteLength + 100))
    shared.set(one, 50)
    const view = shared.subarray(50, 50 + one.byteLength)
    log.append([batch('y')])
    log.append([view])
    expect(Buffer.from(view.buffer, view.byteOffset, 8).readBigInt64BE(0)).toBe(1n)
    expect(readAll(log)).toEqual(['y-0', 'x-0'])
  })

  it('records index entries every indexIntervalBytes and reports them', () => {
    const outcome = log.append(Array.from({ length: 40 }, (_, i) => batch(`i${i}`,
      { valueBytes: 100 })))
    expect(outcome.indexEntries.length).toBeGreaterThan(5)
    const segmentBase = log.activeSegment().baseOffset
    expect(log.indexEntries(segmentBase)).toEqual(
      outcome.indexEntries.map(({ offset, position }) => ({ offset, position })))
    const indexFile = fileBytes(log.activeSegment().path.replace('.log', '.index'))
    expect(indexFile.byteLength).toBe(outcome.indexEntries.length * 8)
  })
})

describe('bad input', () => {
  it('rejects a batch over maxMessageBytes, naming both sizes, and writes nothing', () => {
    log.close(false)
    log = openLog(scratch.dir, { config: { maxMessageBytes: 200 } }).log
    log.append([batch('ok')])
    const big = batch('big', { valueBytes: 300 })
    let message = ''
    try {
      log.append([batch('fine'), big])
    } catch (error) {
      expect(isSluiceError(error, 'SLUICE_ERR_RECORD_TOO_LARGE')).toBe(true)
      message = (error as Error).message
    }
    expect(message).toContain(String(big.byteLength))
    expect(message).toContain('200')
    expect(log.logEndOffset).toBe(1)
    expect(readAll(log)).toEqual(['ok-0'])
  })

  it('rejects a batch with a corrupt CRC and keeps the stored data intact', () => {
    log.append([batch('kept')])
    const bad = batch('bad')
    bad[bad.byteLength - 1]! ^= 0xff
    expectCode(() => log.append([batch('also-not-written'), bad]), 'SLUICE_ERR_CORRUPT_BATCH')
    const truncated = batch('short').subarray(0, 70)
    expectCode(() => log.append([truncated]), 'SLUICE_ERR_CORRUPT_BATCH')
    expect(log.logEndOffset).toBe(1)
    expect(log.isFailed).toBe(false)
    expect(readAll(log)).toEqual(['kept-0'])
    expect(log.append([batch('next')]).batches[0]!.baseOffset).toBe(1)
  })
})

describe('read', () => {
  beforeEach(() => {
    for (let i = 0; i < 10; i++) log.append([batch(`r${i}`, { count: 2, valueBytes: 40 })])
  })

  it('returns whole batches up to maxBytes, and at least one batch', () => {
    const one = log.read(0, 1)
    expect(valuesOf(one)).toEqual(['r0-0', 'r0-1'])
    const size = one.byteLength
    expect(valuesOf(log.read(0, size * 3 + size - 1))).toHaveLength(6)
    expect(log.read(0, 10 * size).byteLength).toBe(10 * size)
  })

  it('starts at the batch holding the offset and is empty at the log end', () => {
    expect(valuesOf(log.read(5, 1))).toEqual(['r2-0', 'r2-1'])
    expect(log.read(20, 100).byteLength).toBe(0)
  })

  it('refuses offsets below the start or past the end', () => {
    expectCode(() => log.read(21, 100), 'SLUICE_ERR_OFFSET_OUT_OF_RANGE')
    expectCode(() => log.read(-1, 100), 'SLUICE_ERR_OFFSET_OUT_OF_RANGE')
  })
})

describe('locate', () => {
  let sizes: number[]

  beforeEach(() => {
    log.close(false)
    log = openLog(scratch.dir, { config: { segmentBytes: 2000, indexIntervalBytes: 150 } }).log
    sizes = []
    for (let i = 0; i < 30; i++) {
      const b = batch(`l${i}`, { count: 3, valueBytes: 20 })
      sizes.push(b.byteLength)
      log.append([b])
    }
  })

  it('finds every offset, including first, middle and last of batches and segments', () => {
    const segments = log.segments()
    expect(segments.length).toBeGreaterThan(2)
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const found = log.locate(offset)!
      const batchIndex = Math.floor(offset / 3)
      const segment = segments.findLast((s) => s.baseOffset <= offset)!
      expect(found.segmentBaseOffset).toBe(segment.baseOffset)
      const firstInSegment = segment.baseOffset / 3
      const expected = sizes.slice(firstInSegment, batchIndex).reduce((a, b) => a + b, 0)
      expect(found.position, `offset ${offset}`).toBe(expected)
    }
  })

  it('returns null at the log end and refuses offsets below the start', () => {
    expect(log.locate(log.logEndOffset)).toBeNull()
    log.deleteRecordsBefore(4)
    expectCode(() => log.locate(3), 'SLUICE_ERR_OFFSET_OUT_OF_RANGE')
    expect(log.locate(4)).toEqual({ segmentBaseOffset: 0, position: sizes[0] })
  })
})

describe('timeLookup', () => {
  it('finds the first batch whose newest timestamp reaches T, across segments', () => {
    log.close(false)
    log = openLog(scratch.dir, { config: { segmentBytes: 600, indexIntervalBytes: 100 } }).log
    for (let i = 0; i < 20; i++) log.append([batch(`t${i}`, { timestamp: 1000 + i * 10 })])
    expect(log.segments().length).toBeGreaterThan(2)
    expect(log.timeLookup(0)).toBe(0)
    expect(log.timeLookup(1000)).toBe(0)
    expect(log.timeLookup(1001)).toBe(1)
    expect(log.timeLookup(1095)).toBe(10)
    expect(log.timeLookup(1190)).toBe(19)
    expect(log.timeLookup(1191)).toBeNull()
    log.deleteRecordsBefore(5)
    expect(log.timeLookup(1000)).toBe(5)
  })
})
