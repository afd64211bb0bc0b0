// Proves the thread-free SegmentFileReader: it agrees with the log on where every offset lives,
// never trusts index entries or returns bytes past the committed size it is given, falls back to
// a header scan when the index is unusable, bounds its open fds, and reports a segment deleted
// by retention as SLUICE_ERR_OFFSET_OUT_OF_RANGE.
import { writeFileSync } from 'node:fs'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import type { FileHandle } from '../../src/io/file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { SegmentFileReader, type PartitionLog } from '../../src/log/index.js'
import { tempDir } from '../helpers.js'
import { FakeClock, batch, openLog, valuesOf } from './log-test-kit.js'

class CountingFileSystem extends NodeFileSystem {
  openHandles = 0
  override open(filePath: string, mode: 'read' | 'readwrite' | 'create'): FileHandle {
    const handle = super.open(filePath, mode)
    if (mode === 'read' && filePath.endsWith('.log')) this.openHandles++
    return handle
  }
}

let scratch: ReturnType<typeof tempDir>
let log: PartitionLog
let reader: SegmentFileReader
const unit = batch('r00', { count: 2, valueBytes: 30 }).byteLength

beforeEach(() => {
  scratch = tempDir('sluice-reader-')
  log = openLog(scratch.dir, { config: { segmentBytes: unit * 6, indexIntervalBytes: unit } }).log
  for (let i = 0; i < 20; i++) {
    log.append([batch(`r${String(i).padStart(2, '0')}`, { count: 2, valueBytes: 30 })])
  }
  reader = new SegmentFileReader(new NodeFileSystem(), scratch.dir)
})

afterEach(() => {
  reader.close()
  log.close(false)
  scratch.remove()
})

it('locates every offset where the log does, and reads whole batches from there', () => {
  for (const segment of log.segments()) {
    for (let offset = segment.baseOffset; offset < segment.nextOffset; offset++) {
      const position = reader.locate(segment.baseOffset, offset, segment.sizeBytes)
      expect(position, `offset ${offset}`).toBe(log.locate(offset)!.position)
    }
    expect(reader.locate(segment.baseOffset, segment.nextOffset, segment.sizeBytes)).toBeNull()
  }
  const second = log.segments()[1]!
  const bytes = reader.readBatches(second.baseOffset, unit, unit * 2 + 5, second.sizeBytes)
  expect(valuesOf(bytes)).toEqual(['r07-0', 'r07-1', 'r08-0', 'r08-1'])
  expect(reader.read(second.baseOffset, unit, 10, second.sizeBytes)).toEqual(bytes.subarray(0, 10))
})

it('ignores what lies past the committed size, and sees it once the size grows', () => {
  const active = log.activeSegment()
  const committed = unit
  expect(reader.indexEntries(active.baseOffset, committed)).toEqual([])
  expect(reader.locate(active.baseOffset, active.baseOffset + 2, committed)).toBeNull()
  expect(reader.read(active.baseOffset, 0, 1_000_000, committed).byteLength).toBe(committed)
  expect(reader.indexEntries(active.baseOffset, active.sizeBytes))
    .toEqual(log.indexEntries(active.baseOffset))
  expect(reader.locate(active.baseOffset, active.baseOffset + 2, active.sizeBytes)).toBe(unit)
})

it('falls back to a header scan when the index is missing or garbage', () => {
  const first = log.segments()[0]!
  writeFileSync(first.path.replace('.log', '.index'), Buffer.alloc(24, 0x7f))
  expect(reader.locate(0, 9, first.sizeBytes)).toBe(unit * 4)
  reader.forget(0)
  writeFileSync(first.path.replace('.log', '.index'), Buffer.alloc(0))
  expect(reader.locate(0, 11, first.sizeBytes)).toBe(unit * 5)
})

it('keeps at most maxOpenSegments fds open', () => {
  const fs = new CountingFileSystem()
  const bounded = new SegmentFileReader(fs, scratch.dir, { maxOpenSegments: 2 })
  const segments = log.segments()
  expect(segments.length).toBeGreaterThan(3)
  for (let round = 0; round < 2; round++) {
    for (const s of segments) bounded.locate(s.baseOffset, s.baseOffset, s.sizeBytes)
  }
  expect(fs.openHandles).toBe(segments.length * 2)
  for (let i = 0; i < 5; i++) bounded.locate(segments[0]!.baseOffset, 0, segments[0]!.sizeBytes)
  expect(fs.openHandles).toBe(segments.length * 2 + 1)
  bounded.close()
})

it('reports a segment retired by retention as out of range, but an open fd keeps reading', () => {
  const clock = new FakeClock()
  log.close(false)
  log = openLog(scratch.dir, { clock,
    config: { segmentBytes: unit * 6, indexIntervalBytes: unit, retentionBytes: unit * 8 } }).log
  const [first, second] = log.segments()
  expect(valuesOf(reader.readBatches(0, 0, 1, first!.sizeBytes))).toEqual(['r00-0', 'r00-1'])
  const retired = log.enforceRetention()
  expect(retired.map((s) => s.baseOffset)).toContain(second!.baseOffset)
  expect(valuesOf(reader.readBatches(0, 0, 1, first!.sizeBytes))).toEqual(['r00-0', 'r00-1'])
  let caught: unknown = null
  try {
    reader.locate(second!.baseOffset, second!.baseOffset, second!.sizeBytes)
  } catch (error) {
    caught = error
  }
  expect(isSluiceError(caught, 'SLUICE_ERR_OFFSET_OUT_OF_RANGE')).toBe(true)
})
