// Proves TAILDIR follows files as the recovery table in taildir-source.ts says, one test per
// row: several files per group with group headers, an unfinished line held back, rotation by
// rename (the renamed file read to its end, the new one from its start, whether or not the
// pattern still matches the old name), truncation, skipToEnd, the position file carried over a
// restart, a full channel never moving a position, and Flume's keys and bad values in a config;
// and sluice's maxLineLength: a longer line cut into counted pieces, an unfinished line not read
// again from the committed position every poll (and forgotten when the file is truncated).
import {
  appendFileSync, mkdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync,
} from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import type { FlowEvent } from '../../src/flow/event.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { TaildirSource, type TaildirOptions } from '../../src/flow/sources/taildir-source.js'
import type { Channel } from '../../src/flow/transaction.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger, processorFor, takeEvents } from './flow-helpers.js'

const scratch = tempDir('sluice-taildir-')
afterAll(() => scratch.remove())
let dirCount = 0

function freshDir(): string {
  return path.join(scratch.dir, `case-${dirCount++}`)
}

interface Rig {
  source: TaildirSource
  channel: Channel
  dir: string
  clock: { nowMs: number }
  take: (max?: number) => Promise<FlowEvent[]>
  bodies: () => Promise<string[]>
}

async function rig(overrides: Partial<TaildirOptions> & { pattern?: RegExp } = {},
  existing?: { dir: string; positionFile: string }, capacity = 1000): Promise<Rig> {
  const dir = existing?.dir ?? freshDir()
  mkdirSync(dir, { recursive: true })
  const channel = new MemoryChannel('c', { capacity, transactionCapacity: Math.min(capacity, 100),
    keepAliveSeconds: 0 })
  const clock = { nowMs: 1_000_000 }
  const { pattern = /^.*\.log$/, ...options } = overrides
  const source = new TaildirSource('r', processorFor(channel), {
    fileGroups: [{ name: 'f1', directory: dir, pattern, headers: { group: 'one' } }],
    positionFile: existing?.positionFile ?? path.join(dir, '..', `${path.basename(dir)}.json`),
    batchSize: 100, maxBatchCount: 1000, skipToEnd: false, byteOffsetHeader: false,
    idleTimeoutMs: 120_000, writePosIntervalMs: 3000, backoffSleepIncrementMs: 10,
    maxBackoffSleepMs: 50, cachePatternMatching: false, fileHeader: false,
    fileHeaderKey: 'file', maxLineLengthBytes: 1024 * 1024, nowMs: () => clock.nowMs,
    ...options,
  }, capturingLogger())
  source.counter.start()
  const take = (max = 100) => takeEvents(channel, max)
  const bodies = async () => {
    await source.process()
    return (await take()).map((e) => e.body.toString())
  }
  return { source, channel, dir, clock, take, bodies }
}

it('tails several files of a group with its headers, and holds back an unfinished line',
  async () => {
    const r = await rig({ byteOffsetHeader: true, fileHeader: true })
    writeFileSync(path.join(r.dir, 'a.log'), 'a1\na2\r\n')
    writeFileSync(path.join(r.dir, 'b.log'), 'b1\nb-unfinis')
    writeFileSync(path.join(r.dir, 'c.txt'), 'not matched\n')
    await r.source.open()
    await r.source.process()
    const events = await r.take()
    expect(events.map((e) => e.body.toString()).sort()).toEqual(['a1', 'a2', 'b1'])
    const a2 = events.find((e) => e.body.toString() === 'a2')!
    expect(a2.headers).toEqual({ group: 'one', byteoffset: '3', file: path.join(r.dir, 'a.log') })
    appendFileSync(path.join(r.dir, 'b.log'), 'hed\nb3\n')
    expect(await r.bodies()).toEqual(['b-unfinished', 'b3'])
    r.source.close()
  })

for (const pattern of [/^app\.log.*$/, /^app\.log$/]) {
  it(`rotation by rename reads the old file to its end and the new one (pattern ${pattern})`,
    async () => {
      const r = await rig({ pattern, idleTimeoutMs: 1000 })
      const live = path.join(r.dir, 'app.log')
      writeFileSync(live, '1\n2\n')
      await r.source.open()
      expect(await r.bodies()).toEqual(['1', '2'])
      appendFileSync(live, '3\n')
      renameSync(live, `${live}.1`)
      writeFileSync(live, '4\n')
      // The application still holds the old file open for a moment and writes to it.
      appendFileSync(`${live}.1`, '5\nlast-unfinished')
      expect((await r.bodies()).sort()).toEqual(['3', '4', '5'])
      expect(await r.bodies()).toEqual([])
      // Once idle, the renamed file gives up its unfinished line when the pattern lost it.
      r.clock.nowMs += 5000
      const afterIdle = await r.bodies()
      expect(afterIdle).toEqual(pattern.test('app.log.1') ? [] : ['last-unfinished'])
      appendFileSync(live, '6\n')
      expect(await r.bodies()).toEqual(['6'])
      r.source.close()
    })
}

it('a file renamed while closed is followed when its birth time proves it, else re-read',
  async () => {
    const r = await rig({ idleTimeoutMs: 1000 })
    writeFileSync(path.join(r.dir, 'a.log'), 'a1\na2\n')
    await r.source.open()
    expect(await r.bodies()).toEqual(['a1', 'a2'])
    r.clock.nowMs += 5000
    expect(await r.bodies()).toEqual([])
    renameSync(path.join(r.dir, 'a.log'), path.join(r.dir, 'b.log'))
    appendFileSync(path.join(r.dir, 'b.log'), 'a3\n')
    // Without a birth time the inode may be a new file's: duplicates, never a skipped line.
    const birthKnown = statSync(path.join(r.dir, 'b.log')).birthtimeMs !== 0
    expect(await r.bodies()).toEqual(birthKnown ? ['a3'] : ['a1', 'a2', 'a3'])
    r.source.close()
  })

it('a truncated file (copytruncate) is read again from its start', async () => {
  const r = await rig()
  const file = path.join(r.dir, 'x.log')
  writeFileSync(file, 'old-1\nold-2\n')
  await r.source.open()
  expect(await r.bodies()).toEqual(['old-1', 'old-2'])
  truncateSync(file, 0)
  appendFileSync(file, 'new\n')
  expect(await r.bodies()).toEqual(['new'])
  r.source.close()
})

it('skipToEnd skips what existed at start, not files that appear later', async () => {
  const r = await rig({ skipToEnd: true })
  writeFileSync(path.join(r.dir, 'old.log'), 'history\n')
  await r.source.open()
  appendFileSync(path.join(r.dir, 'old.log'), 'fresh\n')
  writeFileSync(path.join(r.dir, 'new.log'), 'born later\n')
  expect((await r.bodies()).sort()).toEqual(['born later', 'fresh'])
  r.source.close()
})

it('the position file carries committed offsets over a restart', async () => {
  const first = await rig()
  const file = path.join(first.dir, 'app.log')
  writeFileSync(file, 'one\ntwo\n')
  await first.source.open()
  expect(await first.bodies()).toEqual(['one', 'two'])
  first.source.close()
  const positionFile = path.join(first.dir, '..', `${path.basename(first.dir)}.json`)
  expect(JSON.parse(readFileSync(positionFile, 'utf8')))
    .toEqual([{ inode: statSync(file).ino, pos: 8, file }])
  appendFileSync(file, 'three\n')
  const second = await rig({}, { dir: first.dir, positionFile })
  await second.source.open()
  expect(await second.bodies()).toEqual(['three'])
  second.source.close()
})

it('a full channel leaves the position at the last committed line', async () => {
  const r = await rig({ batchSize: 3 }, undefined, 3)
  const file = path.join(r.dir, 'busy.log')
  writeFileSync(file, 'l1\nl2\nl3\nl4\nl5\n')
  await r.source.open()
  expect(await r.source.process()).toBe('BACKOFF')
  expect(r.source.counter.get('ChannelWriteFail')).toBe(1)
  expect(r.source.positions()).toEqual([{ inode: statSync(file).ino, pos: 9, file }])
  r.source.close()
  const positionFile = path.join(r.dir, '..', `${path.basename(r.dir)}.json`)
  expect(JSON.parse(readFileSync(positionFile, 'utf8'))[0].pos).toBe(9)
  expect((await r.take()).map((e) => e.body.toString())).toEqual(['l1', 'l2', 'l3'])
  await r.source.open()
  expect(await r.bodies()).toEqual(['l4', 'l5'])
  r.source.close()
})

it('maxBatchCount moves on to the next file after that many batches', async () => {
  const r = await rig({ batchSize: 2, maxBatchCount: 1 })
  writeFileSync(path.join(r.dir, 'a.log'), 'a1\na2\na3\n')
  await r.source.open()
  expect(await r.source.process()).toBe('READY')
  expect((await r.take()).map((e) => e.body.toString())).toEqual(['a1', 'a2'])
  expect(await r.bodies()).toEqual(['a3'])
  r.source.close()
})

it('runs on its own once started, noticing appended lines', async () => {
  const r = await rig()
  const file = path.join(r.dir, 'live.log')
  writeFileSync(file, 'first\n')
  await r.source.start()
  try {
    await until('the first line', () => r.channel.size() === 1)
    appendFileSync(file, 'second\n')
    await until('the second line', () => r.channel.size() === 2)
  } finally {
    await r.source.stop()
  }
  expect((await r.take()).map((e) => e.body.toString())).toEqual(['first', 'second'])
})

it('maxLineLength cuts a longer line into pieces of that many bytes, each counted', async () => {
  const r = await rig({ maxLineLengthBytes: 8, byteOffsetHeader: true })
  const file = path.join(r.dir, 'long.log')
  writeFileSync(file, 'short\nabcdefghijklmnopqrst')
  await r.source.open()
  await r.source.process()
  const pieces = (events: FlowEvent[]) =>
    events.map((e) => [e.body.toString(), Number(e.headers.byteoffset)])
  // The unfinished line is cut as soon as it passes the limit; its last 4 bytes wait for more.
  expect(pieces(await r.take())).toEqual([['short', 0], ['abcdefgh', 6], ['ijklmnop', 14]])
  expect(r.source.counter.get('EventReadFail')).toBe(2)
  expect(r.source.positions()[0]!.pos).toBe(22)
  // A line of exactly 8 bytes (its \r not counted) is whole; a 17-byte one is cut twice.
  appendFileSync(file, `uv\n${'x'.repeat(8)}\r\n${'y'.repeat(17)}\n`)
  await r.source.process()
  expect(pieces(await r.take())).toEqual([['qrstuv', 22], ['xxxxxxxx', 29],
    ['yyyyyyyy', 39], ['yyyyyyyy', 47], ['y', 55]])
  expect(r.source.counter.get('EventReadFail')).toBe(4)
  expect(r.source.positions()[0]!.pos).toBe(57)
  r.source.close()
})

class ReadRecordingFileSystem extends NodeFileSystem {
  readonly positions: number[] = []

  override read(handle: number, target: Uint8Array, targetOffset: number, length: number,
    position: number): number {
    this.positions.push(position)
    return super.read(handle, target, targetOffset, length, position)
  }
}

it('an unfinished line is read once, not again every poll; only committed offsets are saved',
  async () => {
    const fs = new ReadRecordingFileSystem()
    const r = await rig({ fs })
    const file = path.join(r.dir, 'slow.log')
    writeFileSync(file, 'done\npartial')
    await r.source.open()
    expect(await r.bodies()).toEqual(['done'])
    fs.positions.length = 0
    expect(await r.bodies()).toEqual([])
    expect(fs.positions).toEqual([12]) // from where the last read stopped, not from pos 5
    expect(r.source.positions()[0]!.pos).toBe(5)
    r.source.savePositions()
    const positionFile = path.join(r.dir, '..', `${path.basename(r.dir)}.json`)
    expect(JSON.parse(readFileSync(positionFile, 'utf8'))[0].pos).toBe(5)
    appendFileSync(file, 'ly\n')
    expect(await r.bodies()).toEqual(['partially'])
    appendFileSync(file, 'abc')
    expect(await r.bodies()).toEqual([])
    // Rewritten shorter than what was read, though not than pos (15): the unfinished bytes kept
    // from before are not used.
    writeFileSync(file, 'done\npartially\nz\n')
    expect(await r.bodies()).toEqual(['z'])
    r.source.close()
  })

function agent(lines: string[]) {
  return loadAgentText(['a1.sources = r1', 'a1.channels = c1', 'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory', ...lines].join('\n'), 'taildir.conf',
  { agentName: 'a1', strict: true, logger: capturingLogger() })
}

function refusal(lines: string[]): string {
  try {
    agent(lines)
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}

it('reads Flume\'s keys from the user guide\'s example', () => {
  const graph = agent(['a1.sources.r1.type = TAILDIR',
    'a1.sources.r1.positionFile = /var/log/flume/taildir_position.json',
    'a1.sources.r1.filegroups = f1 f2', 'a1.sources.r1.filegroups.f1 = /var/log/test1/example.log',
    'a1.sources.r1.headers.f1.headerKey1 = value1',
    'a1.sources.r1.filegroups.f2 = /var/log/test2/.*log.*',
    'a1.sources.r1.headers.f2.headerKey1 = value2',
    'a1.sources.r1.headers.f2.headerKey2 = value2-2',
    'a1.sources.r1.fileHeader = true', 'a1.sources.r1.maxBatchCount = 1000'])
  expect(graph.problems).toEqual([])
  expect(graph.sources.get('r1')!.type).toBe('TAILDIR')
  expect(agent(['a1.sources.r1.type = org.apache.flume.source.taildir.TaildirSource',
    'a1.sources.r1.filegroups = f1', 'a1.sources.r1.filegroups.f1 = /tmp/x.log'])
    .sources.get('r1')!.type).toBe('TAILDIR')
})

it('reads sluice\'s maxLineLength in bytes, 1 MiB by default', () => {
  const lines = ['a1.sources.r1.type = TAILDIR', 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = /tmp/x.log']
  const limitOf = (graph: ReturnType<typeof agent>) =>
    (graph.sources.get('r1') as unknown as { options: TaildirOptions }).options.maxLineLengthBytes
  expect(limitOf(agent(lines))).toBe(1024 * 1024)
  expect(limitOf(agent([...lines, 'a1.sources.r1.maxLineLength = 4096']))).toBe(4096)
})

it('refuses bad values, naming the key', () => {
  const base = ['a1.sources.r1.type = taildir']
  expect(refusal(base)).toMatch(/a1\.sources\.r1\.filegroups: .*is required/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1']))
    .toMatch(/filegroups\.f1: .*is required/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = logs/app.log'])).toMatch(/filegroups\.f1: .*absolute path/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = /var/log/app(.log'])).toMatch(/not a valid regular expr/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = /var/log/a.log', 'a1.sources.r1.headers.f9.k = v']))
    .toMatch(/headers\.f9\.k: .*names file group f9/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = /var/log/a.log', 'a1.sources.r1.skipToEnd = yes']))
    .toMatch(/skipToEnd: .*expected true or false/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = /var/log/a.log', 'a1.sources.r1.batchSize = 0']))
    .toMatch(/batchSize: .*must be between 1/)
  expect(refusal([...base, 'a1.sources.r1.filegroups = f1',
    'a1.sources.r1.filegroups.f1 = /var/log/a.log', 'a1.sources.r1.maxLineLength = 0']))
    .toMatch(/maxLineLength: .*must be between 1/)
})

it('refuses to start when a group\'s directory does not exist, naming it', async () => {
  const r = await rig()
  const missing = path.join(r.dir, 'no-such-dir')
  const source = new TaildirSource('r', r.source.processor, {
    ...(r.source as unknown as { options: TaildirOptions }).options,
    fileGroups: [{ name: 'f1', directory: missing, pattern: /.*/, headers: {} }],
  }, capturingLogger())
  await expect(source.open()).rejects.toThrow(`Directory does not exist: ${missing}`)
})
