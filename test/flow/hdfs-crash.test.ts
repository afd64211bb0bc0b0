// Proves the hdfs sink's crash promise with a real process: a `sluice agent` (seq source → file
// channel → hdfs sink, gzip CompressedStream or SequenceFile, rolling every 500 events) is
// SIGKILLed mid-stream. What it leaves: closed files that read to the end, and in-use files.
// A restart closes every in-use file, and once the channel is drained every event the first run
// wrote (the seq numbers 0..max seen, which the source committed in order) is in a closed,
// readable file — none lost; duplicates are counted and allowed.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { afterAll, expect, it } from 'vitest'
import { decodeGzipMembers } from '../../src/flow/sinks/hdfs/gzip-members.js'
import { decodeSequenceFile } from '../../src/flow/sinks/hdfs/sequence-file.js'
import { repoRoot, tempDir, until } from '../helpers.js'
import { getText } from './flow-helpers.js'

const scratch = tempDir('sluice-hdfs-crash-')
/** Agents this file started, so a failed run does not leave one behind. */
const children = new Set<ChildProcess>()
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
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
a1.channels.c1.type = file
a1.channels.c1.checkpointDir = ${path.join(dir, 'checkpoint')}
a1.channels.c1.dataDirs = ${path.join(dir, 'data')}
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = 1000
a1.channels.c1.minimumRequiredSpace = 1048576
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

interface Running {
  child: ChildProcess
  output: () => string
  metricsPort: number
}

async function startAgent(dir: string, text: string): Promise<Running> {
  const confFile = path.join(dir, 'agent.conf')
  writeFileSync(confFile, text)
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), 'agent',
    '-f', confFile, '-n', 'a1', '--metrics-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  await until('the agent to start', () => /metrics on port \d+/.test(output), 20_000)
  return { child, output: () => output,
    metricsPort: Number(/metrics on port (\d+)/.exec(output)![1]) }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
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
  const first = await startAgent(dir, conf(dir, 10_000_000, fileType))
  await until('three rolled files and one being written', () => {
    try {
      const files = readOutput(dir, fileType)
      return files.filter((file) => !file.inUse).length >= 3 &&
        files.some((file) => file.inUse && file.events.length > 0)
    } catch {
      return false
    }
  }, 60_000)
  first.child.kill('SIGKILL')
  await exited(first.child)

  const afterKill = readOutput(dir, fileType)
  const closed = afterKill.filter((file) => !file.inUse)
  expect(closed.every((file) => file.whole), JSON.stringify(closed.filter((f) => !f.whole)))
    .toBe(true)
  const listing = JSON.stringify(afterKill.map((file) => [file.name, file.events.length]))
  expect(afterKill.some((file) => file.inUse), listing).toBe(true)
  const maxWritten = Math.max(...afterKill.flatMap((file) => file.events))

  const second = await startAgent(dir, conf(dir, 0, fileType))
  await until('the channel to drain', async () => {
    const metrics = JSON.parse((await getText(second.metricsPort, '/metrics')).body) as
      Record<string, Record<string, string>>
    return metrics['CHANNEL.c1']!.ChannelSize === '0'
  }, 60_000)
  second.child.kill('SIGTERM')
  await exited(second.child)
  expect(second.output()).toMatch(/closed .*\.tmp left open by the last run/)

  const final = readOutput(dir, fileType)
  expect(final.filter((file) => file.inUse)).toEqual([])
  expect(final.filter((file) => !file.whole)).toEqual([])
  const seen = new Map<number, number>()
  for (const value of final.flatMap((file) => file.events)) {
    seen.set(value, (seen.get(value) ?? 0) + 1)
  }
  const lost = Array.from({ length: maxWritten + 1 }, (_, i) => i).filter((i) => !seen.has(i))
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0)
  console.log(`${fileType}: first run wrote up to ${maxWritten}; after the restart ` +
    `${seen.size} distinct events in ${final.length} files, ${duplicates} duplicates, ` +
    `${lost.length} lost`)
  expect(lost).toEqual([])
}, 180_000)
