// Proves the hdfs sink's restart closes what a crash left in use, one test per row of
// in-use-recovery.ts's table (absent, whole, torn tail, no event, final name taken), for every
// file format; that a power cut (FaultFileSystem.crash: unsynced bytes and names dropped, also
// a seeded random part of them kept) loses no committed event; and that the journal lists files
// in buckets the restarted sink never writes to again.
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { FaultFileSystem } from '../../src/io/fault-file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { parseTemplate, timeZoneOf } from '../../src/flow/sinks/hdfs/bucket-path.js'
import { newFormatWriter, type FormatSpec } from '../../src/flow/sinks/hdfs/file-format.js'
import { decodeLz4Blocks } from '../../src/flow/sinks/hdfs/hadoop-lz4.js'
import { decodeSequenceFile } from '../../src/flow/sinks/hdfs/sequence-file.js'
import { HdfsSink, type HdfsSinkOptions } from '../../src/flow/sinks/hdfs/hdfs-sink.js'
import { inTransaction } from '../../src/flow/transaction.js'
import { seedFromEnv, tempDir } from '../helpers.js'
import { capturingLogger } from './flow-helpers.js'

const scratch = tempDir('sluice-hdfs-recovery-')
afterAll(() => scratch.remove())
const T0 = 1_700_000_000_000
let cases = 0

const SPECS: Record<string, { spec: FormatSpec; suffix: string }> = {
  DataStream: { spec: { fileType: 'DataStream', codec: null, appendNewline: true,
    writeFormat: 'Writable' }, suffix: '' },
  gzip: { spec: { fileType: 'CompressedStream', codec: 'gzip', appendNewline: true,
    writeFormat: 'Writable' }, suffix: '.gz' },
  lz4: { spec: { fileType: 'CompressedStream', codec: 'lz4', appendNewline: true,
    writeFormat: 'Writable' }, suffix: '.lz4' },
  SequenceFile: { spec: { fileType: 'SequenceFile', codec: null, appendNewline: false,
    writeFormat: 'Writable' }, suffix: '' },
}

/** The events a file holds, by its format, read with the decoders. */
function eventsIn(format: string, bytes: Buffer): string[] {
  const lines = (data: Buffer) => data.toString().split('\n').filter((line) => line !== '')
  if (format === 'DataStream') return lines(bytes)
  if (format === 'gzip') return lines(zlib.gunzipSync(bytes))
  if (format === 'lz4') {
    const decoded = decodeLz4Blocks(bytes)
    expect(decoded.stoppedAt).toBeNull()
    return lines(decoded.data)
  }
  const file = decodeSequenceFile(bytes)
  if (typeof file === 'string') throw new Error(file)
  expect(file.stoppedAt).toBeNull()
  return file.records.map((record) => record.value.toString())
}

function options(dir: string, format: string, extra: Partial<HdfsSinkOptions> = {})
  : HdfsSinkOptions {
  return {
    pathTemplate: parseTemplate(`${dir}/%{bucket}`), prefixTemplate: parseTemplate('FlumeData'),
    rootDirectory: dir, journalPath: path.join(dir, '.journal'), spec: SPECS[format]!.spec,
    names: { suffix: SPECS[format]!.suffix, inUsePrefix: '', inUseSuffix: '.tmp' },
    roll: { rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 0, idleTimeoutMs: 0,
      callTimeoutMs: 0 },
    escape: { zone: timeZoneOf('UTC'), round: null, localClockMs: null },
    batchSize: 100, maxOpenFiles: 5000, retryIntervalMs: 0, closeTries: 1,
    logger: capturingLogger(), nowMs: () => T0, housekeepingIntervalMs: 0, ...extra,
  }
}

async function deliver(sink: HdfsSink, channel: MemoryChannel, bodies: string[],
  bucket = 'b') {
  await inTransaction(channel, (tx) => bodies.forEach((body) =>
    tx.put({ headers: { bucket }, body: Buffer.from(body) })))
  expect(await sink.process()).toBe('READY')
}

/** A sink that writes two committed batches, then "crashes" (is dropped without stop()). */
async function crashedWriter(format: string) {
  const dir = path.join(scratch.dir, `case-${++cases}`)
  const channel = new MemoryChannel('c', { capacity: 1000, transactionCapacity: 100 })
  const sink = new HdfsSink('k1', channel, options(dir, format))
  await sink.start()
  await deliver(sink, channel, ['e1', 'e2'])
  await deliver(sink, channel, ['e3'])
  const inUse = sink.openFiles()[0]!
  return { dir, inUse, final: inUse.slice(0, -'.tmp'.length) }
}

async function restart(dir: string, format: string) {
  const logger = capturingLogger()
  const sink = new HdfsSink('k1', new MemoryChannel('c2'), options(dir, format, { logger }))
  await sink.start()
  await sink.stop()
  return logger
}

/** The bytes a crash mid-batch leaves: part of the next batch's encoding. */
function tornBatch(format: string, half = true): Buffer {
  const writer = newFormatWriter(SPECS[format]!.spec, () => T0)
  if (format === 'SequenceFile') writer.header()
  writer.append({ headers: {}, body: Buffer.from('unsynced') })
  const bytes = Buffer.concat(writer.takeBatch())
  return half ? bytes.subarray(0, Math.ceil(bytes.length / 2)) : bytes
}

describe.each(Object.keys(SPECS))('restart after a crash, %s', (format) => {
  it('whole: the in-use file is renamed with every committed event', async () => {
    const { dir, inUse, final } = await crashedWriter(format)
    await restart(dir, format)
    expect(readdirSync(path.dirname(inUse))).toEqual([path.basename(final)])
    expect(eventsIn(format, readFileSync(final))).toEqual(['e1', 'e2', 'e3'])
  })

  it('torn tail: cut off, kept beside the file, the rest renamed', async () => {
    const { dir, inUse, final } = await crashedWriter(format)
    const torn = tornBatch(format)
    appendFileSync(inUse, torn)
    const logger = await restart(dir, format)
    expect(eventsIn(format, readFileSync(final))).toEqual(['e1', 'e2', 'e3'])
    const sidecar = path.join(path.dirname(final), `.${path.basename(final)}.torn`)
    expect(readFileSync(sidecar)).toEqual(torn)
    expect(logger.warnings.join('\n')).toMatch(/unreadable bytes .*cut off and kept/)
  })

  it('no event: an in-use file that never got a whole batch is removed', async () => {
    const { dir, inUse } = await crashedWriter(format)
    const header = format === 'SequenceFile' ? readFileSync(inUse).subarray(0, 95) : Buffer.alloc(0)
    writeFileSync(inUse, Buffer.concat([header, tornBatch(format).subarray(0, 3)]))
    await restart(dir, format)
    expect(readdirSync(path.dirname(inUse)).filter((name) => !name.startsWith('.'))).toEqual([])
  })
})

describe('restart edge cases', () => {
  it('absent: a journal entry whose file was already renamed is skipped', async () => {
    const { dir, inUse, final } = await crashedWriter('DataStream')
    const { renameSync } = await import('node:fs')
    renameSync(inUse, final)
    const logger = await restart(dir, 'DataStream')
    expect(readFileSync(final, 'utf8')).toBe('e1\ne2\ne3\n')
    expect(logger.warnings).toEqual([])
  })

  it('final name taken: the in-use file is left alone and the error names both', async () => {
    const { dir, inUse, final } = await crashedWriter('DataStream')
    writeFileSync(final, 'someone else\'s')
    const logger = capturingLogger()
    const sink = new HdfsSink('k1', new MemoryChannel('c2'), options(dir, 'DataStream',
      { logger }))
    await sink.start()
    expect(logger.warnings.join('\n')).toMatch(/cannot close .*tmp: .* already exists/)
    expect(readFileSync(inUse, 'utf8')).toBe('e1\ne2\ne3\n')
    // It stays in the journal: once the obstacle is gone, the next start closes it.
    await sink.stop()
    const { rmSync } = await import('node:fs')
    rmSync(final)
    await restart(dir, 'DataStream')
    expect(readFileSync(final, 'utf8')).toBe('e1\ne2\ne3\n')
  })

  it('closes files in buckets the new run never writes to (yesterday\'s directory)', async () => {
    const { dir, final } = await crashedWriter('gzip')
    const channel = new MemoryChannel('c3')
    const sink = new HdfsSink('k1', channel, options(dir, 'gzip'))
    await sink.start()
    await deliver(sink, channel, ['today'], 'other')
    expect(zlib.gunzipSync(readFileSync(final)).toString()).toBe('e1\ne2\ne3\n')
    await sink.stop()
  })

  it('refuses a journal line that is not its own, naming the line', async () => {
    const { dir } = await crashedWriter('DataStream')
    appendFileSync(path.join(dir, '.journal'), 'garbage\n')
    const logger = capturingLogger()
    const channel = new MemoryChannel('c4')
    const sink = new HdfsSink('k1', channel, options(dir, 'DataStream', { logger }))
    await sink.start()
    expect(logger.warnings.join('\n')).toMatch(/\.journal:\d+: not a line of the hdfs sink/)
    await inTransaction(channel, (tx) =>
      tx.put({ headers: { bucket: 'b' }, body: Buffer.from('x') }))
    await expect(sink.process()).rejects.toThrow(/not a line/)
    expect(channel.size()).toBe(1)
    await sink.stop()
  })
})

describe('power loss (FaultFileSystem.crash)', () => {
  it.each(['DataStream', 'gzip', 'lz4', 'SequenceFile'])('%s: every committed event survives',
    async (format) => {
      const seed = seedFromEnv('SLUICE_HDFS_POWER_SEED')
      for (const crashSeed of [undefined, seed]) {
        const dir = path.join(scratch.dir, `power-${++cases}`)
        const fault = new FaultFileSystem(new NodeFileSystem())
        const channel = new MemoryChannel('c', { capacity: 1000, transactionCapacity: 100 })
        const sink = new HdfsSink('k1', channel, options(dir, format, { fs: fault,
          roll: { rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 7, idleTimeoutMs: 0,
            callTimeoutMs: 0 } }))
        await sink.start()
        const committed: string[] = []
        for (let batch = 0; batch < 6; batch++) {
          const bodies = Array.from({ length: 5 }, (_, i) => `b${batch}-${i}`)
          await deliver(sink, channel, bodies, batch % 2 === 0 ? 'even' : 'odd')
          committed.push(...bodies)
        }
        // The process dies with a batch written to each open file but not yet fsynced.
        for (const inUse of sink.openFiles()) {
          const handle = fault.open(inUse, 'readwrite')
          fault.writev(handle, [tornBatch(format, false)], fault.size(handle))
        }
        fault.crash(crashSeed === undefined ? {} : { seed: crashSeed })
        await restart(dir, format)
        const found: string[] = []
        for (const bucket of ['even', 'odd']) {
          for (const name of readdirSync(path.join(dir, bucket))) {
            if (name.startsWith('.')) continue
            expect(name.endsWith('.tmp'), name).toBe(false)
            found.push(...eventsIn(format, readFileSync(path.join(dir, bucket, name))))
          }
        }
        expect(found.filter((body) => body !== 'unsynced').sort()).toEqual(committed.sort())
      }
    })
})
