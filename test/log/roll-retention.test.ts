// Proves segment rolling (by size at the exact boundary, by age on a fake clock, oversized batches
// alone) and retention (by time, by size, below the log start): whole sealed segments go, the
// log start advances, the active segment stays, and deleted files go through `*.deleted`.
import { existsSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { deleteRetiredFiles, type PartitionLog } from '../../src/log/index.js'
import { tempDir } from '../helpers.js'
import { FakeClock, batch, openLog, readAll } from './log-test-kit.js'

let scratch: ReturnType<typeof tempDir>
let log: PartitionLog | null = null
const clock = new FakeClock()

beforeEach(() => {
  scratch = tempDir('sluice-roll-')
})

afterEach(() => {
  log?.close(false)
  log = null
  scratch.remove()
})

const unit = batch('v0').byteLength // every batch below has a 2-char tag

describe('roll by size', () => {
  it('fills a segment exactly, then rolls on the next byte', () => {
    log = openLog(scratch.dir, { config: { segmentBytes: unit * 3 } }).log
    const first = log.append([batch('aa'), batch('bb'), batch('cc')])
    expect(first.rolled).toBe(false)
    expect(log.segments()).toHaveLength(1)
    expect(log.activeSegment().sizeBytes).toBe(unit * 3)
    const next = log.append([batch('dd')])
    expect(next.rolled).toBe(true)
    expect(next.batches[0]).toMatchObject({ baseOffset: 3, segmentBaseOffset: 3, position: 0 })
    expect(log.segments().map((s) => [s.baseOffset, s.nextOffset])).toEqual([[0, 3], [3, 4]])
  })

  it('rolls inside one call when the batches overflow the segment by one byte', () => {
    log = openLog(scratch.dir, { config: { segmentBytes: unit * 2 + unit - 1 } }).log
    const outcome = log.append([batch('aa'), batch('bb'), batch('cc')])
    expect(outcome.rolled).toBe(true)
    expect(outcome.batches.map((b) => b.segmentBaseOffset)).toEqual([0, 0, 2])
    expect(readAll(log)).toEqual(['aa-0', 'bb-0', 'cc-0'])
  })

  it('puts a batch larger than segmentBytes into a segment of its own', () => {
    log = openLog(scratch.dir, { config: { segmentBytes: unit * 2 } }).log
    log.append([batch('sm')])
    const big = batch('big', { valueBytes: unit * 3 })
    log.append([big, batch('af')])
    expect(log.segments().map((s) => [s.baseOffset, s.sizeBytes])).toEqual(
      [[0, unit], [1, big.byteLength], [2, unit]])
  })
})

describe('roll by time', () => {
  it('rolls a non-empty segment once segmentMs has passed on the clock', () => {
    log = openLog(scratch.dir, { clock, config: { segmentMs: 1000 } }).log
    log.append([batch('aa')])
    clock.now += 999
    expect(log.append([batch('bb')]).rolled).toBe(false)
    clock.now += 1
    expect(log.append([batch('cc')]).rolled).toBe(true)
    expect(log.activeSegment()).toMatchObject({ baseOffset: 2, createdMs: clock.now })
  })

  it('never rolls an empty segment, and keeps the segment age across a clean restart', () => {
    log = openLog(scratch.dir, { clock, config: { segmentMs: 1000 } }).log
    clock.now += 5000
    expect(log.append([batch('aa')]).rolled).toBe(false)
    const createdMs = log.activeSegment().createdMs
    log.close(true)
    log = openLog(scratch.dir, { clock, config: { segmentMs: 1000 } }).log
    expect(log.activeSegment().createdMs).toBe(createdMs)
    clock.now += 1000
    expect(log.append([batch('bb')]).rolled).toBe(true)
  })
})

describe('retention', () => {
  function fill(count: number, timestampOf: (i: number) => number): void {
    for (let i = 0; i < count; i++) log!.append([batch(`v${i}`, { timestamp: timestampOf(i) })])
  }

  it('deletes whole segments older than retentionMs and advances the log start', () => {
    log = openLog(scratch.dir, { clock,
      config: { segmentBytes: unit * 2, retentionMs: 10_000 } }).log
    fill(7, (i) => clock.now - 100_000 + i * 10_000)
    expect(log.segments()).toHaveLength(4)
    const retired = log.enforceRetention()
    // segments hold offsets [0,1] [2,3] [4,5] [6]; newest timestamps -90k, -70k, -50k, -40k:
    // everything but the active segment is past 10 s.
    expect(retired.map((s) => s.baseOffset)).toEqual([0, 2, 4])
    expect(log.logStartOffset).toBe(6)
    expect(log.segments().map((s) => s.baseOffset)).toEqual([6])
    expect(readAll(log)).toEqual(['v6-0'])
    const names = readdirSync(scratch.dir)
    expect(names.filter((n) => n.endsWith('.deleted'))).toHaveLength(9)
    deleteRetiredFiles(new NodeFileSystem(), retired.flatMap((s) => s.deletedPaths))
    expect(readdirSync(scratch.dir).filter((n) => n.endsWith('.deleted'))).toEqual([])
  })

  it('stops at the first segment still inside retentionMs', () => {
    log = openLog(scratch.dir, { clock,
      config: { segmentBytes: unit * 2, retentionMs: 60_000 } }).log
    fill(6, (i) => (i === 3 ? clock.now : clock.now - 100_000))
    expect(log.enforceRetention().map((s) => s.baseOffset)).toEqual([0])
    expect(log.logStartOffset).toBe(2)
  })

  it('deletes oldest segments while the log is over retentionBytes', () => {
    log = openLog(scratch.dir, { clock,
      config: { segmentBytes: unit * 2, retentionBytes: unit * 3 } }).log
    fill(9, () => clock.now)
    // 5 segments: 4 × 2 batches + 1 = 9 units; drop the oldest while the rest still holds ≥ 3.
    const retired = log.enforceRetention()
    expect(retired.map((s) => s.baseOffset)).toEqual([0, 2, 4])
    expect(log.segments().reduce((sum, s) => sum + s.sizeBytes, 0)).toBe(unit * 3)
    expect(log.logStartOffset).toBe(6)
  })

  it('never deletes the active segment, even when it alone exceeds every limit', () => {
    log = openLog(scratch.dir, { clock,
      config: { retentionBytes: 1, retentionMs: 0 } }).log
    fill(3, () => 0)
    clock.now += 1_000_000
    expect(log.enforceRetention()).toEqual([])
    expect(readAll(log)).toEqual(['v0-0', 'v1-0', 'v2-0'])
  })

  it('deletes segments entirely below a log start moved by deleteRecordsBefore', () => {
    log = openLog(scratch.dir, { clock, config: { segmentBytes: unit * 2 } }).log
    fill(6, () => clock.now)
    log.deleteRecordsBefore(3)
    expect(log.logStartOffset).toBe(3)
    expect(log.enforceRetention().map((s) => s.baseOffset)).toEqual([0])
    expect(readAll(log)).toEqual(['v3-0', 'v4-0', 'v5-0'])
    log.close(true)
    log = openLog(scratch.dir, { clock, config: { segmentBytes: unit * 2 } }).log
    expect(log.logStartOffset).toBe(3)
    expect(existsSync(path.join(scratch.dir, '00000000000000000000.log.deleted'))).toBe(false)
  })
})
