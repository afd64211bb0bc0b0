// Proves TAILDIR's position file is Flume's JSON exactly (a Flume file reads, ours round-trips),
// that every damaged file is refused with an error naming it (never read as fewer entries), and
// that a source refuses to start on one, leaving it untouched.
import { readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import fc from 'fast-check'
import { afterAll, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { TaildirSource } from '../../src/flow/sources/taildir-source.js'
import {
  decodePositions, encodePositions, readPositions, writePositions,
} from '../../src/flow/sources/taildir-positions.js'
import { tempDir } from '../helpers.js'
import { capturingLogger } from './flow-helpers.js'

const scratch = tempDir('sluice-taildir-positions-')
afterAll(() => scratch.remove())

it('reads the file a Flume agent writes', () => {
  const flume = '[{"inode":2496272,"pos":1402,"file":"/var/log/test1/example.log"},' +
    '{"inode":2496275,"pos":0,"file":"/var/log/test2/log-1.log"}]'
  expect(decodePositions(flume, 'p.json')).toEqual([
    { inode: 2496272, pos: 1402, file: '/var/log/test1/example.log' },
    { inode: 2496275, pos: 0, file: '/var/log/test2/log-1.log' }])
  expect(encodePositions(decodePositions(flume, 'p.json'))).toBe(flume)
})

const position = fc.record({
  inode: fc.maxSafeNat(), pos: fc.maxSafeNat(),
  file: fc.string().map((s) => `/var/log/${s}`),
})

it('round-trips any list of positions (property)', () => {
  fc.assert(fc.property(fc.array(position, { maxLength: 10 }), (positions) => {
    expect(decodePositions(encodePositions(positions), 'p.json')).toEqual(positions)
  }))
})

it('refuses every strict prefix of a position file (a torn write is never a shorter list)', () => {
  fc.assert(fc.property(fc.array(position, { minLength: 1, maxLength: 4 }), (positions) => {
    const text = encodePositions(positions)
    for (let cut = 0; cut < text.length; cut++) {
      expect(() => decodePositions(text.slice(0, cut), 'p.json')).toThrow(/p\.json/)
    }
  }))
})

it('names what is wrong with a damaged file', () => {
  const cases: [string, RegExp][] = [
    ['{"inode":1}', /the top level is not an array/],
    ['[{"pos":1,"file":"/a"}]', /entry 0: inode is missing/],
    ['[{"inode":1,"pos":-4,"file":"/a"}]', /entry 0: pos is -4, not a whole number/],
    ['[{"inode":1,"pos":1.5,"file":"/a"}]', /entry 0: pos is 1\.5/],
    ['[{"inode":1,"pos":1,"file":"relative.log"}]', /needs an absolute path/],
    ['[7]', /entry 0 is not an object/],
    ['[{"inode":1,"pos":1,"file":"/a"},', /invalid JSON/],
  ]
  for (const [text, why] of cases) {
    let error: unknown
    try {
      decodePositions(text, '/tmp/taildir_position.json')
    } catch (caught) {
      error = caught
    }
    expect(isSluiceError(error, 'SLUICE_ERR_SOURCE_INPUT'), text).toBe(true)
    expect((error as Error).message).toMatch(why)
    expect((error as Error).message).toMatch(/\/tmp\/taildir_position\.json .*move it aside/)
  }
})

it('writes atomically and reads back; a missing file is a first start', () => {
  const fs = new NodeFileSystem()
  const file = path.join(scratch.dir, 'nested', 'dir', 'taildir_position.json')
  expect(readPositions(fs, file)).toEqual([])
  writePositions(fs, file, [{ inode: 5, pos: 10, file: '/x/app.log' }])
  expect(readFileSync(file, 'utf8')).toBe('[{"inode":5,"pos":10,"file":"/x/app.log"}]')
  expect(readPositions(fs, file)).toEqual([{ inode: 5, pos: 10, file: '/x/app.log' }])
})

it('a source refuses to start on a damaged position file and leaves it as it was', async () => {
  const positionFile = path.join(scratch.dir, 'damaged.json')
  writeFileSync(positionFile, '[{"inode":12,"pos":')
  const channel = new MemoryChannel('c')
  const source = new TaildirSource('r', new ChannelProcessor({ type: 'replicating',
    channels: [channel], required: () => [channel], optional: () => [] }, [],
  capturingLogger()), {
    fileGroups: [{ name: 'f1', directory: scratch.dir, pattern: /^.*\.log$/, headers: {} }],
    positionFile, batchSize: 10, maxBatchCount: 100, skipToEnd: false,
    byteOffsetHeader: false, idleTimeoutMs: 1000, writePosIntervalMs: 1000,
    backoffSleepIncrementMs: 10, maxBackoffSleepMs: 50, cachePatternMatching: true,
    fileHeader: false, fileHeaderKey: 'file', maxLineLengthBytes: 1024 * 1024,
  }, capturingLogger())
  await expect(source.start()).rejects.toThrow(/damaged\.json is not usable: invalid JSON/)
  expect(readFileSync(positionFile, 'utf8')).toBe('[{"inode":12,"pos":')
})
