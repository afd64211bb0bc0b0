// Proves DESIGN rule 3 for one partition log: after ENOSPC, EIO or a torn write the log refuses
// appends with SLUICE_ERR_STORAGE, keeps every acknowledged batch, and recover() truncates what
// was torn (reporting it) and takes appends again; after a power loss (FaultFileSystem.crash)
// everything synced is present.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { FaultFileSystem } from '../../src/io/fault-file-system.js'
import { MemoryFileSystem } from '../../src/io/memory-file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import type { PartitionLog, PartitionLogConfig } from '../../src/log/index.js'
import { seedFromEnv, seededRandom, tempDir } from '../helpers.js'
import { batch, openLog, readAll } from './log-test-kit.js'

let scratch: ReturnType<typeof tempDir>
let fs: FaultFileSystem
let log: PartitionLog | null = null
const onLog = (filePath: string) => filePath.endsWith('.log')

beforeEach(() => {
  scratch = tempDir('sluice-faults-')
  fs = new FaultFileSystem(new NodeFileSystem())
})

afterEach(() => {
  log?.close(false)
  log = null
  scratch.remove()
})

function open(config: Partial<PartitionLogConfig> = {}): PartitionLog {
  log = openLog(scratch.dir, { fs, config }).log
  return log
}

function expectStorageError(run: () => unknown): void {
  let caught: unknown = null
  try {
    run()
  } catch (error) {
    caught = error
  }
  expect(isSluiceError(caught, 'SLUICE_ERR_STORAGE'), String(caught)).toBe(true)
}

describe('storage errors', () => {
  it('ENOSPC on writev fails the log until recover(), keeping acknowledged data', () => {
    const log = open()
    log.append([batch('a0'), batch('a1')])
    log.sync()
    fs.failWritesAfterBytes(batch('b0').byteLength + 20, 'ENOSPC', onLog)
    expectStorageError(() => log.append([batch('b0'), batch('b1')]))
    expect(log.isFailed).toBe(true)
    expect(log.logEndOffset).toBe(2)
    expectStorageError(() => log.append([batch('c0')]))
    expectStorageError(() => log.sync())
    expect(readAll(log)).toEqual(['a0-0', 'a1-0'])

    fs.clearFaults()
    const report = log.recover()
    // b0 landed whole, b1 in part: both belong to the failed call, so both are cut.
    expect(report.truncations).toEqual([expect.objectContaining({
      bytesRemoved: batch('b0').byteLength + 20, reason: expect.stringMatching(/never ack/) })])
    expect(log.isFailed).toBe(false)
    log.append([batch('d0')])
    log.sync()
    expect(readAll(log)).toEqual(['a0-0', 'a1-0', 'd0-0'])
  })

  it('EIO from fdatasync fails the log; it is never retried; recover() restores appends', () => {
    const log = open()
    log.append([batch('a0')])
    log.sync()
    log.append([batch('b0')])
    fs.failNextSync('EIO', onLog)
    expectStorageError(() => log.sync())
    expect(log.recoveryPointOffset).toBe(1)
    expectStorageError(() => log.append([batch('c0')]))
    expectStorageError(() => log.sync())
    // b0 reached the file but its sync failed, so it was never acknowledged: recovery cuts it.
    const report = log.recover()
    expect(report.truncations).toEqual([expect.objectContaining({
      bytesRemoved: batch('b0').byteLength, reason: expect.stringMatching(/never ack/) })])
    expect(log.append([batch('d0')]).batches[0]!.baseOffset).toBe(1)
    expect(readAll(log)).toEqual(['a0-0', 'd0-0'])
  })

  it('a torn write is truncated by recover(), which reports it', () => {
    const log = open()
    log.append([batch('a0')])
    log.sync()
    const position = log.activeSegment().sizeBytes
    fs.tearNextWrite(33, 'EIO', onLog)
    expectStorageError(() => log.append([batch('b0')]))
    const report = log.recover()
    expect(report.truncations).toEqual([{ segment: '00000000000000000000.log',
      fromPosition: position, bytesRemoved: 33, reason: expect.stringMatching(/torn tail/) }])
    expect(log.append([batch('c0')]).batches[0]!.baseOffset).toBe(1)
    expect(readAll(log)).toEqual(['a0-0', 'c0-0'])
  })

  it('a failed index write fails the log too, and recovery rebuilds the index', () => {
    const log = open({ indexIntervalBytes: 0 })
    log.append([batch('a0')])
    log.sync()
    fs.failNextWrite('ENOSPC', (p) => p.endsWith('.index'))
    expectStorageError(() => log.append([batch('b0'), batch('b1')]))
    fs.clearFaults()
    const report = log.recover()
    expect(report.truncations).toHaveLength(1)
    expect(report.indexesRebuilt).toEqual([])
    expect(readAll(log)).toEqual(['a0-0'])
    expect(log.locate(0)).toEqual({ segmentBaseOffset: 0, position: 0 })
  })

  it('a failed sync while sealing a segment at roll fails the append', () => {
    const log = open({ segmentBytes: batch('a0').byteLength })
    log.append([batch('a0')])
    log.sync()
    fs.failNextSync('EIO')
    expectStorageError(() => log.append([batch('b0')]))
    expect(log.isFailed).toBe(true)
    log.recover()
    log.append([batch('c0')])
    expect(readAll(log)).toEqual(['a0-0', 'c0-0'])
  })
})

describe('what recover() keeps', () => {
  it("in 'fsync' durability cuts appends no sync covered; in 'os' keeps what was written", () => {
    for (const durability of ['fsync', 'os'] as const) {
      const log = open({ durability })
      log.append([batch('a0')])
      log.sync()
      log.append([batch('a1')])
      fs.failNextWrite('EIO', onLog)
      expectStorageError(() => log.append([batch('a2')]))
      fs.clearFaults()
      log.recover()
      const kept = durability === 'fsync' ? ['a0-0'] : ['a0-0', 'a1-0']
      expect(readAll(log), durability).toEqual(kept)
      log.close(false)
      scratch.remove()
      scratch = tempDir('sluice-faults-')
    }
  })
})

describe('power loss', () => {
  it('keeps everything synced and nothing unsynced after a crash', () => {
    const log = open({ segmentBytes: 3 * batch('s0').byteLength })
    for (let i = 0; i < 7; i++) log.append([batch(`s${i}`)])
    log.sync()
    log.append([batch('u7'), batch('u8')])
    fs.crash()
    const reopened = open({ segmentBytes: 3 * batch('s0').byteLength })
    expect(readAll(reopened)).toEqual(Array.from({ length: 7 }, (_, i) => `s${i}-0`))
    expect(reopened.append([batch('n7')]).batches[0]!.baseOffset).toBe(7)
  })

  it('keeps a synced prefix whatever part of the unsynced bytes survives (seeded)', () => {
    const seed = seedFromEnv('SLUICE_LOG_CRASH_SEED')
    const random = seededRandom(seed)
    for (let round = 0; round < 10; round++) {
      const memory = new FaultFileSystem(new MemoryFileSystem())
      const dir = `/crash-${round}`
      const config = { segmentBytes: 4 * batch('s0').byteLength }
      let crashing = openLog(dir, { fs: memory, config }).log
      const synced = Math.floor(random() * 10)
      for (let i = 0; i < synced; i++) crashing.append([batch(`s${i}`)])
      crashing.sync()
      for (let i = 0; i < 5; i++) crashing.append([batch(`u${i}`)])
      memory.crash({ seed: Math.floor(random() * 2 ** 31) })
      const opened = openLog(dir, { fs: memory, config })
      crashing = opened.log
      const values = readAll(crashing)
      expect(values.slice(0, synced), `round ${round}, seed ${seed}`)
        .toEqual(Array.from({ length: synced }, (_, i) => `s${i}-0`))
      expect(values.slice(synced)).toEqual(
        Array.from({ length: values.length - synced }, (_, i) => `u${i}-0`))
      crashing.close(false)
    }
  })

  it("durability 'os' survives power loss up to the last roll (sealed segments are synced)", () => {
    const config = { durability: 'os' as const, segmentBytes: 2 * batch('s0').byteLength }
    const log = open(config)
    for (let i = 0; i < 5; i++) log.append([batch(`s${i}`)])
    fs.crash()
    const reopened = open(config)
    expect(readAll(reopened)).toEqual(['s0-0', 's1-0', 's2-0', 's3-0'])
  })
})

describe("durability 'memory'", () => {
  it('runs on the in-memory file system and reopens cleanly from it', () => {
    const memory = new MemoryFileSystem()
    const config = { durability: 'memory' as const, segmentBytes: 200 }
    let log = openLog('/mem/t-0', { fs: memory, config }).log
    for (let i = 0; i < 6; i++) log.append([batch(`m${i}`)])
    expect(log.segments().length).toBeGreaterThan(1)
    log.close(true)
    const opened = openLog('/mem/t-0', { fs: memory, config })
    log = opened.log
    expect(opened.report.clean).toBe(true)
    expect(readAll(log)).toEqual(Array.from({ length: 6 }, (_, i) => `m${i}-0`))
    log.close(false)
  })
})
