// Proves the hdfs sink behaves as Flume's HDFSEventSink on a local directory, driven by an
// injected clock: files roll by count, size and interval and close when idle; names follow
// <inUsePrefix><prefix>.<counter><suffix><inUseSuffix> and lose the in-use parts when closed;
// buckets follow the escaped path; past maxOpenFiles the eldest file closes; stop closes and
// renames everything; an event without a timestamp, a directory that cannot be made, a failed
// write or fsync, and a call slower than callTimeout all roll the batch back with nothing lost
// and no half batch left in a file; a failed rename is retried.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { FaultFileSystem } from '../../src/io/fault-file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { parseTemplate, timeZoneOf } from '../../src/flow/sinks/hdfs/bucket-path.js'
import { decodeSequenceFile } from '../../src/flow/sinks/hdfs/sequence-file.js'
import { HdfsSink, type HdfsSinkOptions } from '../../src/flow/sinks/hdfs/hdfs-sink.js'
import { isSluiceError } from '../../src/errors.js'
import { tempDir } from '../helpers.js'
import { capturingLogger } from './flow-helpers.js'
import { inTransaction } from '../../src/flow/transaction.js'

const scratch = tempDir('sluice-hdfs-sink-')
afterAll(() => scratch.remove())
const T0 = 1_700_000_000_000
let dirCount = 0

interface Harness {
  dir: string
  clock: { now: number }
  channel: MemoryChannel
  sink: HdfsSink
  logger: ReturnType<typeof capturingLogger>
}

function harness(extra: Partial<HdfsSinkOptions> = {}, pathSuffix = ''): Harness {
  const dir = path.join(scratch.dir, `case-${++dirCount}`)
  const clock = { now: T0 }
  const channel = new MemoryChannel('c', { capacity: 10_000, transactionCapacity: 1000 })
  const logger = capturingLogger()
  const options: HdfsSinkOptions = {
    pathTemplate: parseTemplate(dir + pathSuffix), prefixTemplate: parseTemplate('FlumeData'),
    rootDirectory: dir, journalPath: path.join(dir, '.journal'),
    spec: { fileType: 'DataStream', codec: null, appendNewline: true, writeFormat: 'Writable' },
    names: { suffix: '', inUsePrefix: '', inUseSuffix: '.tmp' },
    roll: { rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 0, idleTimeoutMs: 0,
      callTimeoutMs: 0 },
    escape: { zone: timeZoneOf('UTC'), round: null, localClockMs: null },
    batchSize: 100, maxOpenFiles: 5000, retryIntervalMs: 0, closeTries: 1, logger,
    nowMs: () => clock.now, housekeepingIntervalMs: 0, ...extra,
  }
  return { dir, clock, channel, sink: new HdfsSink('k1', channel, options), logger }
}

/** Relative paths of the files under dir (the journal left out), sorted. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((name) => !name.endsWith('.journal') && !name.includes('.journal.'))
    .filter((name) => !readdirSafe(path.join(dir, name)))
    .sort()
}

function readdirSafe(target: string): boolean {
  try {
    readdirSync(target)
    return true
  } catch {
    return false
  }
}

const text = (dir: string, name: string) => readFileSync(path.join(dir, name), 'utf8')

async function deliver(h: Harness, bodies: string[], headers: Record<string, string> = {}) {
  await inTransaction(h.channel, (tx) => bodies.forEach((body) =>
    tx.put({ headers, body: Buffer.from(body) })))
  return h.sink.process()
}

describe('rolling', () => {
  it('rolls by count before the append that would pass rollCount', async () => {
    const h = harness({ roll: { rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 3,
      idleTimeoutMs: 0, callTimeoutMs: 0 } })
    await h.sink.start()
    expect(await deliver(h, ['1', '2', '3', '4', '5', '6', '7'])).toBe('READY')
    // The counter starts at the clock when the bucket is first used, +1 per file.
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}`, `FlumeData.${T0 + 2}`,
      `FlumeData.${T0 + 3}.tmp`])
    expect(text(h.dir, `FlumeData.${T0 + 1}`)).toBe('1\n2\n3\n')
    expect(text(h.dir, `FlumeData.${T0 + 3}.tmp`)).toBe('7\n')
    await h.sink.stop()
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}`, `FlumeData.${T0 + 2}`,
      `FlumeData.${T0 + 3}`])
    expect(h.sink.counter.get('ConnectionCreatedCount')).toBe(3)
    expect(h.sink.counter.get('ConnectionClosedCount')).toBe(3)
  })

  it('rolls by size once the body bytes reach rollSize', async () => {
    const h = harness({ roll: { rollIntervalMs: 0, rollSizeBytes: 10, rollCount: 0,
      idleTimeoutMs: 0, callTimeoutMs: 0 } })
    await h.sink.start()
    await deliver(h, ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee'])
    await h.sink.stop()
    expect(files(h.dir).map((name) => text(h.dir, name))).toEqual(['aaaa\nbbbb\ncccc\n',
      'dddd\neeee\n'])
  })

  it('closes on rollInterval and idleTimeout; the next event starts a new counter', async () => {
    const h = harness({ roll: { rollIntervalMs: 30_000, rollSizeBytes: 0, rollCount: 0,
      idleTimeoutMs: 5_000, callTimeoutMs: 0 } })
    await h.sink.start()
    await deliver(h, ['a'])
    h.clock.now += 4_999
    await deliver(h, ['b']) // flushes: the idle clock restarts
    h.clock.now += 4_999
    h.sink.housekeeping()
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}.tmp`])
    h.clock.now += 1 // 5 000 ms idle
    h.sink.housekeeping()
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}`])
    expect(text(h.dir, `FlumeData.${T0 + 1}`)).toBe('a\nb\n')
    const second = h.clock.now
    for (let i = 0; i < 7; i++) {
      await deliver(h, [`c${i}`])
      h.clock.now += 4_000
    }
    // 28 s of steady traffic: not idle, and under the 30 s interval.
    h.sink.housekeeping()
    expect(files(h.dir)).toContain(`FlumeData.${second + 1}.tmp`)
    h.clock.now += 2_000
    h.sink.housekeeping()
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}`, `FlumeData.${second + 1}`])
    await h.sink.stop()
  })
})

describe('naming and buckets', () => {
  it('names files with inUsePrefix/Suffix while open, then prefix and fileSuffix', async () => {
    const h = harness({ prefixTemplate: parseTemplate('events-%{host}'),
      names: { suffix: '.log', inUsePrefix: '_', inUseSuffix: '.writing' } })
    await h.sink.start()
    await deliver(h, ['x'], { host: 'web' })
    expect(files(h.dir)).toEqual([`_events-web.${T0 + 1}.log.writing`])
    await h.sink.stop()
    expect(files(h.dir)).toEqual([`events-web.${T0 + 1}.log`])
  })

  it('names gzip files .gz without a fileSuffix; emptyInUseSuffix writes under the final name',
    async () => {
      const h = harness({ spec: { fileType: 'CompressedStream', codec: 'gzip',
        appendNewline: true, writeFormat: 'Writable' },
      names: { suffix: '.gz', inUsePrefix: '', inUseSuffix: '' } })
      await h.sink.start()
      await deliver(h, ['one', 'two'])
      await deliver(h, ['three'])
      expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}.gz`])
      await h.sink.stop()
      const bytes = readFileSync(path.join(h.dir, `FlumeData.${T0 + 1}.gz`))
      expect(zlib.gunzipSync(bytes).toString()).toBe('one\ntwo\nthree\n')
    })

  it('buckets by the escaped path and refuses an event without a timestamp', async () => {
    const h = harness({}, '/%Y-%m-%d/%H')
    await h.sink.start()
    const at = (iso: string) => ({ timestamp: String(Date.parse(iso)) })
    await inTransaction(h.channel, (tx) => {
      tx.put({ headers: at('2024-05-01T10:15:00Z'), body: Buffer.from('a') })
      tx.put({ headers: at('2024-05-01T11:15:00Z'), body: Buffer.from('b') })
      tx.put({ headers: at('2024-05-01T10:45:00Z'), body: Buffer.from('c') })
    })
    await h.sink.process()
    await h.sink.stop()
    expect(files(h.dir)).toEqual([`2024-05-01/10/FlumeData.${T0 + 1}`,
      `2024-05-01/11/FlumeData.${T0 + 1}`])
    expect(text(h.dir, `2024-05-01/10/FlumeData.${T0 + 1}`)).toBe('a\nc\n')

    const bad = harness({}, '/%Y')
    await bad.sink.start()
    await inTransaction(bad.channel, (tx) => {
      tx.put({ headers: at('2024-05-01T10:15:00Z'), body: Buffer.from('ok') })
      tx.put({ headers: {}, body: Buffer.from('no time') })
    })
    const error = await bad.sink.process().catch((e: unknown) => e)
    expect(isSluiceError(error, 'SLUICE_ERR_EVENT_DELIVERY')).toBe(true)
    expect((error as Error).message).toMatch(/Expected timestamp in the Flume event headers/)
    // Nothing written, nothing taken: both events wait in the channel, in order.
    expect(files(bad.dir)).toEqual([])
    expect(bad.channel.size()).toBe(2)
    expect(bad.sink.counter.get('EventWriteFail')).toBe(1)
    await bad.sink.stop()
  })

  it('refuses header values that would lead outside the root directory', async () => {
    const h = harness({ prefixTemplate: parseTemplate('%{p}') }, '/%{dir}')
    await h.sink.start()
    const error = await deliver(h, ['x'], { dir: '../../escape', p: 'a' })
      .catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/outside .*; refused/)
    expect(h.channel.size()).toBe(1)
    await h.sink.process().catch(() => undefined)
    await inTransaction(h.channel, async (tx) => { await tx.take() })
    await expect(deliver(h, ['y'], { dir: 'd', p: '../../../up' })).rejects.toThrow(/refused/)
    await inTransaction(h.channel, async (tx) => { await tx.take() })
    // A prefix with a slash names a subdirectory, as in Flume.
    await deliver(h, ['z'], { dir: 'd', p: 'sub/app' })
    await h.sink.stop()
    expect(files(h.dir)).toEqual([`d/sub/app.${T0 + 1}`])
  })

  it('closes the least recently used file past maxOpenFiles', async () => {
    const h = harness({ maxOpenFiles: 2, prefixTemplate: parseTemplate('%{k}') })
    await h.sink.start()
    await deliver(h, ['1'], { k: 'a' })
    await deliver(h, ['2'], { k: 'b' })
    await deliver(h, ['3'], { k: 'a' })
    await deliver(h, ['4'], { k: 'c' }) // b is the eldest now
    expect(files(h.dir)).toEqual([`a.${T0 + 1}.tmp`, `b.${T0 + 1}`, `c.${T0 + 1}.tmp`])
    await h.sink.stop()
  })

  it('writes SequenceFiles with the timestamp header as key through the whole path', async () => {
    const h = harness({ spec: { fileType: 'SequenceFile', codec: null, appendNewline: false,
      writeFormat: 'Writable' } })
    await h.sink.start()
    await deliver(h, ['first'], { timestamp: '123' })
    await deliver(h, ['second'])
    await h.sink.stop()
    const file = decodeSequenceFile(readFileSync(path.join(h.dir, `FlumeData.${T0 + 1}`)))
    if (typeof file === 'string') throw new Error(file)
    expect(file.stoppedAt).toBeNull()
    expect(file.records.map((r) => [r.key, r.value.toString()])).toEqual([[123n, 'first'],
      [BigInt(T0), 'second']])
  })
})

/** A FileSystem that fails chosen calls with a chosen errno, once each. */
class FailingFileSystem extends FaultFileSystem {
  failOpen: string | null = null
  onCreate: (() => void) | null = null
  failRenames = 0
  slowSyncMs = 0
  onSync: (() => void) | null = null

  override open(filePath: string, mode: 'read' | 'readwrite' | 'create') {
    if (mode === 'create' && this.failOpen !== null) {
      const code = this.failOpen
      this.failOpen = null
      throw Object.assign(new Error(`${code}: permission denied, open '${filePath}'`), { code })
    }
    if (mode === 'create') this.onCreate?.()
    return super.open(filePath, mode)
  }

  override rename(from: string, to: string) {
    if (this.failRenames > 0) {
      this.failRenames--
      throw Object.assign(new Error(`EIO: i/o error, rename '${from}'`), { code: 'EIO' })
    }
    super.rename(from, to)
  }

  override fdatasync(handle: number) {
    this.onSync?.()
    super.fdatasync(handle)
  }
}

describe('failures roll the batch back and lose nothing', () => {
  it('a directory that cannot be made (a file in its place)', async () => {
    const h = harness({}, '/%{dc}')
    mkdirSync(h.dir, { recursive: true })
    writeFileSync(path.join(h.dir, 'east'), 'in the way')
    await h.sink.start()
    const error = await deliver(h, ['a', 'b'], { dc: 'east' }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/cannot create the directory .*east/)
    expect(h.channel.size()).toBe(2)
    rmSync(path.join(h.dir, 'east'))
    expect(await h.sink.process()).toBe('READY')
    await h.sink.stop()
    expect(text(h.dir, `east/FlumeData.${T0 + 1}`)).toBe('a\nb\n')
  })

  it('a file that cannot be created (EACCES), a failed write, and a failed fsync', async () => {
    const fs = new FailingFileSystem(new NodeFileSystem())
    const h = harness({ fs })
    await h.sink.start()
    await deliver(h, ['kept'])
    fs.failNextWrite('EIO', (p) => p.endsWith('.tmp'))
    await expect(deliver(h, ['w1', 'w2'])).rejects.toThrow(/cannot flush .*EIO/)
    expect(h.channel.size()).toBe(2)
    fs.failNextSync('EIO', (p) => p.endsWith('.tmp'))
    await expect(h.sink.process()).rejects.toThrow(/cannot flush/)
    expect(h.channel.size()).toBe(2)
    fs.failOpen = 'EACCES'
    await expect(h.sink.process()).rejects.toThrow(/cannot create .*EACCES/)
    expect(h.channel.size()).toBe(2)
    expect(await h.sink.process()).toBe('READY')
    await h.sink.stop()
    // Each failed file was cut back to its last flush and closed: no half batch, no duplicate.
    const contents = files(h.dir).map((name) => text(h.dir, name))
    expect(contents.join('')).toBe('kept\nw1\nw2\n')
    expect(files(h.dir).some((name) => name.endsWith('.tmp'))).toBe(false)
    expect(h.sink.counter.get('EventWriteFail')).toBe(3)
  })

  it('a call slower than callTimeout fails its batch, as a timed-out call in Flume', async () => {
    const fs = new FailingFileSystem(new NodeFileSystem())
    const h = harness({ fs, roll: { rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 0,
      idleTimeoutMs: 0, callTimeoutMs: 10_000 } })
    await h.sink.start()
    await deliver(h, ['fast'])
    fs.onSync = () => { h.clock.now += 10_001 }
    await expect(deliver(h, ['slow'])).rejects.toThrow(/took 10001 ms, over hdfs.callTimeout/)
    fs.onSync = null
    expect(h.channel.size()).toBe(1)
    fs.onCreate = () => { h.clock.now += 10_001 }
    await expect(h.sink.process()).rejects.toThrow(/create .* took 10001 ms/)
    fs.onCreate = null
    expect(h.channel.size()).toBe(1)
    await h.sink.process()
    await h.sink.stop()
    // The late create left nothing behind: two files, both closed.
    expect(files(h.dir).map((name) => text(h.dir, name))).toEqual(['fast\n', 'slow\n'])
  })

  it('retries a failed rename every retryInterval, then leaves it to the next start', async () => {
    const fs = new FailingFileSystem(new NodeFileSystem())
    const h = harness({ fs, retryIntervalMs: 180_000, closeTries: 3 })
    await h.sink.start()
    await deliver(h, ['r'])
    fs.failRenames = 2
    await h.sink.stop().catch(() => undefined)
    // stop() tried once more at once (2 failures used up); the file is still in use.
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}.tmp`])
    const again = harness({ fs, rootDirectory: h.dir, journalPath: path.join(h.dir, '.journal'),
      pathTemplate: parseTemplate(h.dir) })
    await again.sink.start()
    expect(files(h.dir)).toEqual([`FlumeData.${T0 + 1}`])
    await again.sink.stop()

    const live = harness({ fs, retryIntervalMs: 180_000, closeTries: 0,
      roll: { rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 1, idleTimeoutMs: 0,
        callTimeoutMs: 0 } })
    await live.sink.start()
    fs.failRenames = 1
    await deliver(live, ['p', 'q']) // the roll after p fails to rename; q goes on
    expect(files(live.dir)).toEqual([`FlumeData.${T0 + 1}.tmp`, `FlumeData.${T0 + 2}.tmp`])
    live.clock.now += 179_999
    live.sink.housekeeping()
    expect(files(live.dir)[0]).toBe(`FlumeData.${T0 + 1}.tmp`)
    live.clock.now += 1
    live.sink.housekeeping()
    expect(files(live.dir)).toEqual([`FlumeData.${T0 + 1}`, `FlumeData.${T0 + 2}.tmp`])
    await live.sink.stop()
    expect(live.logger.warnings.join('\n')).toMatch(/will retry closing .* in 180 s/)

    // closeTries = 1: the first attempt was the only one; the next start closes the file.
    const once = harness({ fs, retryIntervalMs: 180_000, closeTries: 1 })
    await once.sink.start()
    await deliver(once, ['s'])
    fs.failRenames = 1
    await once.sink.stop()
    expect(files(once.dir)).toEqual([`FlumeData.${T0 + 1}.tmp`])
    expect(once.logger.warnings.join('\n')).toMatch(/is left for the next start to close/)
  })
})
