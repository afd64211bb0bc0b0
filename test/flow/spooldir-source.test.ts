// Proves the spooldir source keeps Flume's promises: files are read in consumeOrder and
// completed (renamed, deleted, or marked in trackerDir) only after their events committed; a
// file changed while being read, or a completed name that already exists, stops the source with
// Flume's message naming the file; a restart resumes from the stored mark (also in the middle of
// a long line) instead of re-reading the file; decode policies, patterns, recursion; bad config.
import {
  appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync,
} from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import type { FlowEvent } from '../../src/flow/event.js'
import {
  META_FILE, SpoolDirectorySource, type SpoolDirOptions,
} from '../../src/flow/sources/spooldir-source.js'
import type { Channel } from '../../src/flow/transaction.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger, processorFor, takeEvents } from './flow-helpers.js'

const scratch = tempDir('sluice-spooldir-')
afterAll(() => scratch.remove())
let dirCount = 0

function spoolDir(files: Record<string, string | Buffer> = {}): string {
  const dir = path.join(scratch.dir, `spool-${dirCount++}`)
  mkdirSync(dir, { recursive: true })
  let age = 0
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
    // Distinct mtimes, in the order given: the first file is the oldest.
    const at = new Date(Date.UTC(2026, 0, 1) + age++ * 60_000)
    utimesSync(file, at, at)
  }
  return dir
}

function spooler(dir: string, options: Partial<SpoolDirOptions> = {}, capacity = 1000) {
  const channel = new MemoryChannel('c', { capacity, transactionCapacity: Math.min(capacity, 100),
    keepAliveSeconds: 0 })
  const source = new SpoolDirectorySource('r', processorFor(channel), {
    spoolDir: dir, fileSuffix: '.COMPLETED', deletePolicy: 'never', trackingPolicy: 'rename',
    trackerDir: path.join(dir, '.flumespool'), includePattern: /^.*$/, ignorePattern: /^$/,
    consumeOrder: 'oldest', pollDelayMs: 10, recursiveDirectorySearch: false, maxBackoffMs: 40,
    batchSize: Math.min(capacity, 100), charset: 'utf-8', decodeErrorPolicy: 'FAIL',
    maxLineLength: 2048, fileHeaderKey: null, basenameHeaderKey: null, ...options,
  }, capturingLogger())
  source.counter.start()
  return { source, channel }
}

const take = (channel: Channel, max = 100): Promise<FlowEvent[]> => takeEvents(channel, max)

const bodies = async (channel: Channel) => (await take(channel)).map((e) => e.body.toString())

it('reads the oldest file first and renames each to .COMPLETED once committed', async () => {
  const dir = spoolDir({ 'b.log': 'b1\nb2\n', 'a.log': 'a1\n\na3 no newline', '.hidden': 'x\n' })
  const { source, channel } = spooler(dir, { fileHeaderKey: 'file',
    basenameHeaderKey: 'basename' })
  await source.start()
  await until('both files completed', () => existsSync(path.join(dir, 'a.log.COMPLETED')) &&
    existsSync(path.join(dir, 'b.log.COMPLETED')))
  await source.stop()
  const events = await take(channel)
  expect(events.map((e) => e.body.toString())).toEqual(['b1', 'b2', 'a1', '', 'a3 no newline'])
  expect(events[2]!.headers).toEqual({ file: path.join(dir, 'a.log'), basename: 'a.log' })
  expect(readdirSync(dir).sort())
    .toEqual(['.flumespool', '.hidden', 'a.log.COMPLETED', 'b.log.COMPLETED'])
  expect(readdirSync(path.join(dir, '.flumespool'))).toEqual([])
})

it('youngest first, with deletePolicy immediate deleting completed files', async () => {
  const dir = spoolDir({ 'old.log': 'old\n', 'new.log': 'new\n' })
  const { source, channel } = spooler(dir, { consumeOrder: 'youngest',
    deletePolicy: 'immediate' })
  await source.start()
  await until('both files deleted', () => readdirSync(dir).length === 1)
  await source.stop()
  expect(await bodies(channel)).toEqual(['new', 'old'])
})

it('trackingPolicy tracker_dir leaves the file and marks it, so a restart skips it', async () => {
  const dir = spoolDir({ 'keep.log': 'k1\n', 'sub/deep.log': 'd1\n' })
  const { source, channel } = spooler(dir, { trackingPolicy: 'tracker_dir',
    recursiveDirectorySearch: true })
  await source.start()
  const marker = path.join(dir, '.flumespool', 'sub', 'deep.log.COMPLETED')
  await until('both files marked', () => existsSync(marker) &&
    existsSync(path.join(dir, '.flumespool', 'keep.log.COMPLETED')))
  await source.stop()
  expect(existsSync(path.join(dir, 'keep.log'))).toBe(true)
  expect((await bodies(channel)).sort()).toEqual(['d1', 'k1'])
  const again = spooler(dir, { trackingPolicy: 'tracker_dir', recursiveDirectorySearch: true })
  await again.source.start()
  writeFileSync(path.join(dir, 'later.log'), 'l1\n')
  await until('the new file marked', () =>
    existsSync(path.join(dir, '.flumespool', 'later.log.COMPLETED')))
  await again.source.stop()
  expect(await bodies(again.channel)).toEqual(['l1'])
})

it('include and ignore patterns choose the files; an ignored match wins', async () => {
  const dir = spoolDir({ 'a.csv': 'a\n', 'b.csv.tmp': 'b\n', 'c.log': 'c\n', 'skip.csv': 's\n' })
  const { source, channel } = spooler(dir, { includePattern: /^(?:.*\.csv(\.tmp)?)$/,
    ignorePattern: /^(?:.*\.tmp|skip\..*)$/ })
  await source.start()
  await until('a.csv completed', () => existsSync(path.join(dir, 'a.csv.COMPLETED')))
  await source.stop()
  expect(await bodies(channel)).toEqual(['a'])
  expect(readdirSync(dir).sort()).toEqual(['.flumespool', 'a.csv.COMPLETED', 'b.csv.tmp',
    'c.log', 'skip.csv'])
})

it('a file that grows while it is read stops the source with an error naming it', async () => {
  const dir = spoolDir({ 'growing.log': 'g1\ng2\ng3\ng4\n' })
  const file = path.join(dir, 'growing.log')
  const { source, channel } = spooler(dir, { batchSize: 2 }, 2)
  await source.start()
  await until('the channel to refuse the second batch', () =>
    source.counter.get('ChannelWriteFail') > 0)
  appendFileSync(file, 'written after the file was placed\n')
  const received: string[] = []
  await until('the source to stop on the change', async () => {
    received.push(...await bodies(channel))
    return source.fatalError !== null
  })
  await source.stop()
  expect(isSluiceError(source.fatalError, 'SLUICE_ERR_SOURCE_INPUT')).toBe(true)
  expect(source.fatalError!.message).toMatch(
    new RegExp(`^File has (been modified|changed size) since being read: ${file}$`))
  expect(existsSync(file)).toBe(true)
  expect(existsSync(`${file}.COMPLETED`)).toBe(false)
  expect(received.slice(0, 4)).toEqual(['g1', 'g2', 'g3', 'g4'])
})

it('a completed name that already exists stops the source, naming it', async () => {
  const dir = spoolDir({ 'dup.log.COMPLETED': 'earlier\n', 'dup.log': 'again\n' })
  const { source, channel } = spooler(dir)
  await source.start()
  await until('the fatal error', () => source.fatalError !== null)
  await source.stop()
  expect(source.fatalError!.message).toBe('File name has been re-used with different files. ' +
    `Spooling assumptions violated for ${path.join(dir, 'dup.log.COMPLETED')}`)
  expect(readFileSync(path.join(dir, 'dup.log.COMPLETED'), 'utf8')).toBe('earlier\n')
  expect(existsSync(path.join(dir, 'dup.log'))).toBe(true)
  expect(await bodies(channel)).toEqual(['again'])
})

it('a restart resumes from the stored mark instead of re-reading the file', async () => {
  const lines = Array.from({ length: 12 }, (_, i) => `line-${i}`)
  const dir = spoolDir({ 'big.log': lines.map((l) => `${l}\n`).join('') })
  const first = spooler(dir, { batchSize: 5 }, 5)
  await first.source.start()
  await until('the first batch in and the second refused', () =>
    first.source.counter.get('ChannelWriteFail') > 0)
  await first.source.stop()
  expect(existsSync(path.join(dir, '.flumespool', META_FILE))).toBe(true)
  expect(await bodies(first.channel)).toEqual(lines.slice(0, 5))
  const second = spooler(dir)
  await second.source.start()
  await until('the file completed', () => existsSync(path.join(dir, 'big.log.COMPLETED')))
  await second.source.stop()
  expect(await bodies(second.channel)).toEqual(lines.slice(5))
})

it('a long line is cut at maxLineLength, and a restart resumes inside it', async () => {
  const dir = spoolDir({ 'long.log': 'abcdefghij\nshort\n' })
  const first = spooler(dir, { maxLineLength: 4, batchSize: 2 }, 2)
  await first.source.start()
  await until('a refused batch', () => first.source.counter.get('ChannelWriteFail') > 0)
  await first.source.stop()
  expect(await bodies(first.channel)).toEqual(['abcd', 'efgh'])
  const second = spooler(dir, { maxLineLength: 4 })
  await second.source.start()
  await until('the file completed', () => existsSync(path.join(dir, 'long.log.COMPLETED')))
  await second.source.stop()
  expect(await bodies(second.channel)).toEqual(['ij', 'shor', 't'])
})

it('a file changed between a stop and the restart that resumes it is an error', async () => {
  const dir = spoolDir({ 'edited.log': 'e1\ne2\ne3\n' })
  const first = spooler(dir, { batchSize: 1 }, 1)
  await first.source.start()
  await until('a refused batch', () => first.source.counter.get('ChannelWriteFail') > 0)
  await first.source.stop()
  appendFileSync(path.join(dir, 'edited.log'), 'e4\n')
  const second = spooler(dir)
  await second.source.start()
  await until('the fatal error', () => second.source.fatalError !== null)
  await second.source.stop()
  expect(second.source.fatalError!.message)
    .toMatch(/since being read: .*edited\.log$/)
  expect(second.channel.size()).toBe(0)
})

it('decodeErrorPolicy FAIL names the file and offset; REPLACE and IGNORE read on', async () => {
  const content = Buffer.concat([Buffer.from('ok\nbad '), Buffer.from([0xff]),
    Buffer.from(' byte\n')])
  const failing = spoolDir({ 'x.log': content })
  const fail = spooler(failing)
  await fail.source.start()
  await until('the fatal error', () => fail.source.fatalError !== null)
  await fail.source.stop()
  expect(fail.source.fatalError!.message).toBe(`${path.join(failing, 'x.log')}: the line at ` +
    'byte 3 is not valid utf-8 (decodeErrorPolicy = FAIL; REPLACE or IGNORE would read on)')
  for (const [policy, expected] of [['REPLACE', 'bad \uFFFD byte'], ['IGNORE', 'bad  byte']]) {
    const dir = spoolDir({ 'x.log': content })
    const { source, channel } = spooler(dir, { decodeErrorPolicy: policy as 'REPLACE' })
    await source.start()
    await until('the file completed', () => existsSync(path.join(dir, 'x.log.COMPLETED')))
    await source.stop()
    expect(await bodies(channel)).toEqual(['ok', expected])
  }
  const latin = spoolDir({ 'l.log': Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]) })
  const latinSource = spooler(latin, { charset: 'iso-8859-15' })
  await latinSource.source.start()
  await until('the file completed', () => existsSync(path.join(latin, 'l.log.COMPLETED')))
  await latinSource.source.stop()
  expect(await bodies(latinSource.channel)).toEqual(['café'])
})

it('refuses to start on an unusable mark file, naming it', async () => {
  const dir = spoolDir({ 'a.log': 'a\n' })
  mkdirSync(path.join(dir, '.flumespool'))
  writeFileSync(path.join(dir, '.flumespool', META_FILE), '{"file": 3')
  const { source } = spooler(dir)
  await expect(source.start()).rejects.toThrow(
    `the mark file ${path.join(dir, '.flumespool', META_FILE)} is not usable`)
})

function refusal(lines: string[]): string {
  try {
    const graph = loadAgentText(['a1.sources = r1', 'a1.channels = c1',
      'a1.sources.r1.channels = c1', 'a1.channels.c1.type = memory',
      'a1.sources.r1.type = spooldir', ...lines].join('\n'), 'spool.conf',
    { agentName: 'a1', strict: true, logger: capturingLogger() })
    return `accepted ${graph.sources.get('r1')!.type}`
  } catch (error) {
    return (error as Error).message
  }
}

it('reads Flume\'s keys and refuses bad values, naming the key', () => {
  expect(refusal(['a1.sources.r1.spoolDir = /var/log/apache/flumeSpool',
    'a1.sources.r1.fileHeader = true', 'a1.sources.r1.deletePolicy = IMMEDIATE',
    'a1.sources.r1.consumeOrder = random', 'a1.sources.r1.decodeErrorPolicy = replace',
    'a1.sources.r1.deserializer = LINE', 'a1.sources.r1.deserializer.maxLineLength = 100',
    'a1.sources.r1.inputCharset = ISO-8859-1'])).toBe('accepted spooldir')
  expect(refusal([])).toMatch(/spoolDir: .*is required/)
  const bad = (key: string, value: string) =>
    refusal(['a1.sources.r1.spoolDir = /tmp/spool', `a1.sources.r1.${key} = ${value}`])
  expect(bad('deletePolicy', 'later')).toMatch(/deletePolicy: .*one of never, immediate/)
  expect(bad('trackingPolicy', 'db')).toMatch(/trackingPolicy: .*one of rename, tracker_dir/)
  expect(bad('consumeOrder', 'newest')).toMatch(/consumeOrder: .*oldest, youngest, random/)
  expect(bad('decodeErrorPolicy', 'skip')).toMatch(/decodeErrorPolicy: .*FAIL, REPLACE, IGNORE/)
  expect(bad('deserializer', 'AVRO')).toMatch(/deserializer: .*only the LINE deserializer/)
  expect(bad('inputCharset', 'UTF-16')).toMatch(/inputCharset: .*UTF-16 is not supported/)
  expect(bad('inputCharset', 'klingon')).toMatch(/inputCharset: .*not a charset/)
  expect(bad('includePattern', '(')).toMatch(/includePattern: .*not a valid regular/)
  expect(bad('pollDelay', '-1')).toMatch(/pollDelay: .*must be between 1/)
})

it('refuses to start on a spoolDir that does not exist, naming it', async () => {
  const missing = path.join(scratch.dir, 'absent')
  const { source } = spooler(missing)
  await expect(source.start()).rejects.toThrow(`Directory does not exist: ${missing}`)
})
