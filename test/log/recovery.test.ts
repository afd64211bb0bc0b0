// Proves the recovery table of src/log/recovery.ts, one test per row: each kind of damage to a
// closed log's files is truncated, dropped, rebuilt or deleted as the table says, the report
// names it, and every batch before the damage reads back intact.
import {
  appendFileSync, readFileSync, readdirSync, renameSync, truncateSync, unlinkSync, writeFileSync,
} from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import {
  CHECKPOINT_FILE, CLEAN_SHUTDOWN_FILE, scanPartitionForRecovery, segmentFileName,
  type PartitionLog, type RecoveryReport,
} from '../../src/log/index.js'
import { tempDir } from '../helpers.js'
import { baseConfig, batch, openLog, readAll } from './log-test-kit.js'

const BATCHES = 15
const config = { segmentBytes: 5 * batch('v00', { valueBytes: 40 }).byteLength,
  indexIntervalBytes: 100 }
const values = (n: number) =>
  Array.from({ length: n }, (_, i) => `v${String(i).padStart(2, '0')}-0`)

let scratch: ReturnType<typeof tempDir>
let log: PartitionLog | null = null
let batchBytes: number

const file = (base: number, kind: 'log' | 'index' | 'timeindex') =>
  path.join(scratch.dir, segmentFileName(base, kind))

/** 15 one-record batches in 3 segments [0-4] [5-9] [10-14]; closed cleanly or not. */
function build(clean: boolean): void {
  const built = openLog(scratch.dir, { config }).log
  for (let i = 0; i < BATCHES; i++) {
    const b = batch(`v${String(i).padStart(2, '0')}`, { valueBytes: 40, timestamp: 1000 + i })
    batchBytes = b.byteLength
    built.append([b])
    built.sync()
  }
  expect(built.segments().map((s) => s.baseOffset)).toEqual([0, 5, 10])
  built.close(clean)
}

function reopen(): RecoveryReport {
  const opened = openLog(scratch.dir, { config })
  log = opened.log
  return opened.report
}

beforeEach(() => {
  scratch = tempDir('sluice-recovery-')
})

afterEach(() => {
  log?.close(false)
  log = null
  scratch.remove()
})

describe('recovery table', () => {
  it('row 1: trusts a cleanly closed log after the tail check, scanning nothing', () => {
    build(true)
    const report = reopen()
    expect(report).toMatchObject({ clean: true, checkpoint: 'valid', segmentsScanned: 0,
      truncations: [], segmentsDropped: [], indexesRebuilt: [], logStartOffset: 0,
      logEndOffset: BATCHES })
    expect(readdirSync(scratch.dir)).not.toContain(CLEAN_SHUTDOWN_FILE)
    expect(readAll(log!)).toEqual(values(BATCHES))
    expect(log!.append([batch('next')]).batches[0]!.baseOffset).toBe(BATCHES)
  })

  it('row 2: without the marker, scans from the segment holding the recovery point', () => {
    build(false)
    const report = reopen()
    expect(report.clean).toBe(false)
    expect(report.notes.join()).toMatch(/not closed cleanly/)
    // The checkpoint was last written at the roll to segment 10, so only that one is scanned.
    expect(report.segmentsScanned).toBe(1)
    expect(report.batchesScanned).toBe(5)
    expect(report.truncations).toEqual([])
    expect(readAll(log!)).toEqual(values(BATCHES))
  })

  it('row 3: with no checkpoint, scans every segment from the first', () => {
    build(true)
    unlinkSync(path.join(scratch.dir, CHECKPOINT_FILE))
    const report = reopen()
    expect(report).toMatchObject({ clean: false, checkpoint: 'missing', segmentsScanned: 3,
      batchesScanned: BATCHES, bytesScanned: BATCHES * batchBytes })
    expect(readAll(log!)).toEqual(values(BATCHES))
  })

  it('row 4: ignores a checkpoint that fails its xxhash64 and scans everything', () => {
    build(true)
    const checkpoint = readFileSync(path.join(scratch.dir, CHECKPOINT_FILE))
    checkpoint[10]! ^= 0x01
    writeFileSync(path.join(scratch.dir, CHECKPOINT_FILE), checkpoint)
    const report = reopen()
    expect(report).toMatchObject({ clean: false, checkpoint: 'invalid', segmentsScanned: 3 })
    expect(report.notes.join()).toMatch(/xxhash64/)
    expect(readAll(log!)).toEqual(values(BATCHES))
    expect(reopenAfterClose().checkpoint).toBe('valid')
  })

  it('row 5: truncates a torn tail (a partial batch) and reports the bytes removed', () => {
    build(false)
    const whole = readFileSync(file(10, 'log'))
    appendFileSync(file(10, 'log'), whole.subarray(0, batchBytes - 7))
    const report = reopen()
    expect(report.truncations).toEqual([{ segment: segmentFileName(10, 'log'),
      fromPosition: 5 * batchBytes, bytesRemoved: batchBytes - 7,
      reason: expect.stringMatching(/torn tail/) }])
    expect(readAll(log!)).toEqual(values(BATCHES))
    expect(log!.append([batch('v15')]).batches[0]!.baseOffset).toBe(BATCHES)
  })

  it('row 5: truncates a tail shorter than a batch header', () => {
    build(false)
    appendFileSync(file(10, 'log'), Buffer.alloc(20, 7))
    const report = reopen()
    expect(report.truncations[0]).toMatchObject({ bytesRemoved: 20,
      reason: expect.stringMatching(/less than a batch header/) })
    expect(readAll(log!)).toEqual(values(BATCHES))
  })

  it('row 6: truncates at a flipped bit inside a batch of the last segment', () => {
    build(false)
    flipBit(file(10, 'log'), 2 * batchBytes + 70)
    const report = reopen()
    expect(report.truncations).toEqual([{ segment: segmentFileName(10, 'log'),
      fromPosition: 2 * batchBytes, bytesRemoved: 3 * batchBytes,
      reason: expect.stringMatching(/CRC-32C mismatch/) }])
    expect(report.logEndOffset).toBe(12)
    expect(readAll(log!)).toEqual(values(12))
  })

  it('row 7: a corrupt middle segment is truncated and every later segment dropped', () => {
    build(true)
    unlinkSync(path.join(scratch.dir, CHECKPOINT_FILE))
    flipBit(file(5, 'log'), 3 * batchBytes + 70)
    const report = reopen()
    expect(report.truncations).toEqual([expect.objectContaining({
      segment: segmentFileName(5, 'log'), fromPosition: 3 * batchBytes,
      bytesRemoved: 2 * batchBytes })])
    expect(report.segmentsDropped).toEqual([{ segment: segmentFileName(10, 'log'),
      sizeBytes: 5 * batchBytes, reason: expect.stringMatching(/follows .*truncated/) }])
    expect(readdirSync(scratch.dir).filter((n) => n.startsWith(segmentFileName(10, 'log')
      .slice(0, 20)))).toEqual([])
    expect(report.logEndOffset).toBe(8)
    expect(readAll(log!)).toEqual(values(8))
    expect(log!.append([batch('v08')]).batches[0]).toMatchObject({ baseOffset: 8,
      segmentBaseOffset: 5 })
  })

  it('row 8: a segment that does not start where its predecessor ends is dropped', () => {
    build(false)
    for (const kind of ['log', 'index', 'timeindex'] as const) unlinkSync(file(5, kind))
    const report = reopen()
    expect(report.segmentsDropped).toEqual([{ segment: segmentFileName(10, 'log'),
      sizeBytes: 5 * batchBytes, reason: expect.stringMatching(/starts at offset 10.*ends at 5/) }])
    expect(readAll(log!)).toEqual(values(5))
  })

  it('row 9: rebuilds a deleted index and a deleted time index of a scanned segment', () => {
    build(false)
    const expectedIndex = readFileSync(file(10, 'index'))
    const expectedTimeIndex = readFileSync(file(10, 'timeindex'))
    expect(expectedIndex.byteLength).toBeGreaterThan(0)
    unlinkSync(file(10, 'index'))
    unlinkSync(file(10, 'timeindex'))
    const report = reopen()
    expect(report.indexesRebuilt).toEqual([
      { segment: segmentFileName(10, 'index'), reason: 'missing' },
      { segment: segmentFileName(10, 'timeindex'), reason: 'missing' }])
    expect(readFileSync(file(10, 'index'))).toEqual(expectedIndex)
    expect(readFileSync(file(10, 'timeindex'))).toEqual(expectedTimeIndex)
    expect(readAll(log!)).toEqual(values(BATCHES))
  })

  it('row 9: rebuilds a garbage index and the log still locates every offset', () => {
    build(false)
    writeFileSync(file(10, 'index'), Buffer.alloc(64, 0xff))
    const report = reopen()
    expect(report.indexesRebuilt).toEqual([
      { segment: segmentFileName(10, 'index'), reason: 'inconsistent with the segment' }])
    for (let offset = 10; offset < BATCHES; offset++) {
      expect(log!.locate(offset))
        .toEqual({ segmentBaseOffset: 10, position: (offset - 10) * batchBytes })
    }
  })

  it('row 9: rebuilds a short index', () => {
    build(false)
    const size = readFileSync(file(10, 'index')).byteLength
    truncateSync(file(10, 'index'), size - 8)
    const report = reopen()
    expect(report.indexesRebuilt).toEqual([{ segment: segmentFileName(10, 'index'),
      reason: `short: ${size - 8} of ${size} bytes` }])
    expect(readFileSync(file(10, 'index')).byteLength).toBe(size)
  })

  it('row 10: a trusted segment failing its cheap check is scanned and repaired', () => {
    build(true)
    const size = readFileSync(file(5, 'index')).byteLength
    truncateSync(file(5, 'index'), size - 8)
    const report = reopen()
    expect(report.clean).toBe(false)
    expect(report.notes.join()).toMatch(/00000000000000000005.log: offset index is short/)
    expect(report.segmentsScanned).toBe(1)
    expect(report.indexesRebuilt).toEqual([{ segment: segmentFileName(5, 'index'),
      reason: `short: ${size - 8} of ${size} bytes` }])
    expect(readAll(log!)).toEqual(values(BATCHES))
  })

  it('row 10: a tail not on a batch boundary after a "clean" close is scanned', () => {
    build(true)
    appendFileSync(file(10, 'log'), Buffer.alloc(30, 1))
    const report = reopen()
    expect(report.clean).toBe(false)
    expect(report.notes.join()).toMatch(/tail check failed/)
    expect(report.truncations).toEqual([expect.objectContaining({ bytesRemoved: 30 })])
    expect(readAll(log!)).toEqual(values(BATCHES))
  })

  it('row 11: deletes leftover *.deleted, *.tmp and orphan index files', () => {
    build(true)
    renameSync(file(0, 'log'), `${file(0, 'log')}.deleted`)
    writeFileSync(path.join(scratch.dir, `${CHECKPOINT_FILE}.tmp`), 'half')
    const report = reopen()
    expect(report.leftoversDeleted).toEqual([segmentFileName(0, 'index'),
      `${segmentFileName(0, 'log')}.deleted`, segmentFileName(0, 'timeindex'),
      `${CHECKPOINT_FILE}.tmp`].sort())
    expect(readdirSync(scratch.dir).some((n) => n.endsWith('.deleted') || n.endsWith('.tmp')))
      .toBe(false)
    expect(report.logStartOffset).toBe(5)
    expect(readAll(log!)).toEqual(values(BATCHES).slice(5))
  })

  it('row 12: an empty directory gets one empty segment at the checkpoint log start', () => {
    let report = reopen()
    expect(report).toMatchObject({ logStartOffset: 0, logEndOffset: 0, checkpoint: 'missing' })
    log!.close(true)
    build(true)
    reopen()
    log!.deleteRecordsBefore(12)
    log!.close(true)
    log = null
    for (const name of readdirSync(scratch.dir)) {
      if (/\.(log|index|timeindex)$/.test(name)) unlinkSync(path.join(scratch.dir, name))
    }
    report = reopen()
    expect(report).toMatchObject({ logStartOffset: 12, logEndOffset: 12 })
    expect(log!.append([batch('v12')]).batches[0]!.baseOffset).toBe(12)
  })
})

describe('recovery run elsewhere', () => {
  it('opens from a report without scanning again, and rescans if the files moved on', () => {
    build(false)
    const fs = new NodeFileSystem()
    const report = scanPartitionForRecovery({ fs, dir: scratch.dir, config: { ...baseConfig,
      ...config } })
    const structured = structuredClone(report)
    const opened = openLog(scratch.dir, { config, recovered: structured })
    expect(opened.report).toBe(structured)
    expect(readAll(opened.log)).toEqual(values(BATCHES))
    opened.log.append([batch('v15')])
    opened.log.close(false)
    const stale = openLog(scratch.dir, { config, recovered: structured })
    log = stale.log
    expect(stale.report).not.toBe(structured)
    expect(stale.report.logEndOffset).toBe(16)
  })
})

function flipBit(filePath: string, position: number): void {
  const bytes = readFileSync(filePath)
  bytes[position]! ^= 0x10
  writeFileSync(filePath, bytes)
}

function reopenAfterClose(): RecoveryReport {
  log!.close(true)
  return reopen()
}
