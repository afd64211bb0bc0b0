// Proves the hdfs sink's crash promise with a real process: a `sluice agent` (seq source → file
// channel → hdfs sink, gzip CompressedStream or SequenceFile, rolling every 500 events) is
// SIGKILLed mid-stream. What it leaves: closed files that read to the end, and in-use files.
// A restart closes every in-use file, and once the channel is drained every event the first run
// wrote (the seq numbers 0..max seen, which the source committed in order) is in a closed,
// readable file — none lost; duplicates are counted and allowed.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { afterAll, expect, it } from 'vitest'
import { decodeGzipMembers } from '../../src/flow/sinks/hdfs/gzip-members.js'
import { decodeSequenceFile } from '../../src/flow/sinks/hdfs/sequence-file.js'
import { tempDir, until } from '../helpers.js'
import { channelEmpty, killLeftoverProcesses, startAgent, type AgentProcess }
  from './cli-process.js'
import { tallyDelivery } from './delivery-tally.js'
import { fileChannelProperties } from './flow-helpers.js'

const scratch = tempDir('sluice-hdfs-crash-')
afterAll(async () => {
  // A failed run must not leave an agent behind.
  await killLeftoverProcesses()
  scratch.remove()
})

function conf(dir: string, totalEvents: number, fileType: string): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.batchSize = 50
a1.sources.r1.totalEvents = ${totalEvents}
a1.sources.r1.channels = c1
${fileChannelProperties('a1.channels.c1', dir)}
a1.sinks.k1.type = hdfs
a1.sinks.k1.channel = c1
a1.sinks.k1.hdfs.path = ${path.join(dir, 'out')}/%{bucket}%Y-%m-%d
a1.sinks.k1.hdfs.useLocalTimeStamp = true
a1.sinks.k1.hdfs.fileType = ${fileType}
${fileType === 'CompressedStream' ? 'a1.sinks.k1.hdfs.codeC = gzip' : ''}
a1.sinks.k1.hdfs.rollCount = 500
a1.sinks.k1.hdfs.rollSize = 0
a1.sinks.k1.hdfs.batchSize = 100
`
}

function startHdfsAgent(dir: string, text: string): Promise<AgentProcess> {
  const confFile = path.join(dir, 'agent.conf')
  writeFileSync(confFile, text)
  return startAgent(confFile, 'a1')
}

interface OutputFile {
  name: string
  inUse: boolean
  /** The events the file's readable prefix holds. */
  events: number[]
  /** Whether every byte of the file is readable. */
  whole: boolean
}

function readOutput(dir: string, fileType: string): OutputFile[] {
  const out = path.join(dir, 'out')
  const found: OutputFile[] = []
  // Buckets are directories; the open-files journal (a dot file) sits beside them.
  for (const bucket of readdirSync(out).filter((name) => !name.startsWith('.'))) {
    for (const name of readdirSync(path.join(out, bucket))) {
      if (name.startsWith('.')) continue
      const bytes = readFileSync(path.join(out, bucket, name))
      let events: string[]
      let whole: boolean
      if (fileType === 'CompressedStream') {
        const decoded = decodeGzipMembers(bytes)
        events = decoded.data.toString().split('\n').filter((line) => line !== '')
        whole = decoded.stoppedAt === null
        const lines = whole ? zlib.gunzipSync(bytes).toString().split('\n').length - 1 : 0
        if (whole) expect(lines).toBe(events.length)
      } else {
        const decoded = decodeSequenceFile(bytes)
        if (typeof decoded === 'string') {
          events = []
          whole = false
        } else {
          events = decoded.records.map((record) => record.value.toString())
          whole = decoded.stoppedAt === null
        }
      }
      found.push({ name: `${bucket}/${name}`, inUse: name.endsWith('.tmp'),
        events: events.map(Number), whole })
    }
  }
  return found
}

it.each(['CompressedStream', 'SequenceFile'])('%s: a SIGKILL leaves closed files whole and ' +
  'in-use files; the restart closes them and every written event is readable', async (fileType) => {
  const dir = path.join(scratch.dir, fileType)
  mkdirSync(dir, { recursive: true })
  const first = await startHdfsAgent(dir, conf(dir, 10_000_000, fileType))
  await until('three rolled files and one being written', () => {
    try {
      const files = readOutput(dir, fileType)
      return files.filter((file) => !file.inUse).length >= 3 &&
        files.some((file) => file.inUse && file.events.length > 0)
    } catch {
      return false
    }
  }, 60_000)
  await first.stop('SIGKILL')

  const afterKill = readOutput(dir, fileType)
  const closed = afterKill.filter((file) => !file.inUse)
  expect(closed.every((file) => file.whole), JSON.stringify(closed.filter((f) => !f.whole)))
    .toBe(true)
  const listing = JSON.stringify(afterKill.map((file) => [file.name, file.events.length]))
  expect(afterKill.some((file) => file.inUse), listing).toBe(true)
  const maxWritten = Math.max(...afterKill.flatMap((file) => file.events))

  const second = await startHdfsAgent(dir, conf(dir, 0, fileType))
  await until('the channel to drain', () => channelEmpty(second.metricsPort, 'c1'), 60_000)
  await second.stop('SIGTERM')
  expect(second.output()).toMatch(/closed .*\.tmp left open by the last run/)

  const final = readOutput(dir, fileType)
  expect(final.filter((file) => file.inUse)).toEqual([])
  expect(final.filter((file) => !file.whole)).toEqual([])
  // Events past maxWritten were in the channel only: delivered by the restart, not expected.
  const { seen, lost, duplicates } = tallyDelivery(
    Array.from({ length: maxWritten + 1 }, (_, i) => i), final.flatMap((file) => file.events))
  console.log(`${fileType}: first run wrote up to ${maxWritten}; after the restart ` +
    `${seen.size} distinct events in ${final.length} files, ${duplicates} duplicates, ` +
    `${lost.length} lost`)
  expect(lost).toEqual([])
}, 180_000)
