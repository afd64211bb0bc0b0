// Proves recovery through the whole engine (background-pool scan, then the shard): damage done to
// a closed log's files — a torn tail, a flipped bit, a deleted or garbage index — is truncated or
// rebuilt on the next open, the report says so, and every batch before the damage is intact.
import { appendFileSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { Log } from '../../src/index.js'
import { tempDir } from '../helpers.js'

interface Report {
  clean: boolean
  truncations: { bytesRemoved: number; reason: string }[]
  indexesRebuilt: { reason: string }[]
}

let scratch: ReturnType<typeof tempDir>
let log: Log
const partitionDir = () => path.join(scratch.dir, 'r-0')
const segmentFile = (ext: string) => path.join(partitionDir(),
  readdirSync(partitionDir()).filter((f) => f.endsWith('.log')).sort().at(-1)!.replace('.log', ext))

beforeEach(async () => {
  scratch = tempDir()
  log = await Log.open({ dataDir: scratch.dir, shards: 1 })
  await log.createTopic('r', { partitions: 1, durability: 'fsync', indexIntervalBytes: 256 })
  for (let i = 0; i < 50; i++) await log.append('r', 0, [{ value: `value-${pad(i)}-${'x'.repeat(100)}` }])
  await log.close()
})

afterEach(async () => {
  await log.close()
  scratch.remove()
})

async function reopen(): Promise<Report> {
  log = await Log.open({ dataDir: scratch.dir })
  return log.recoveryReports.get('r-0') as Report
}

async function values(): Promise<string[]> {
  const { records } = await log.read('r', 0, 0, { maxBytes: 10_000_000 })
  return records.map((r) => r.value!.toString().split('-').slice(0, 2).join('-'))
}

const pad = (i: number) => String(i).padStart(2, '0')
const expected = (n: number) => Array.from({ length: n }, (_, i) => `value-${pad(i)}`)

function removeMarker() {
  for (const name of readdirSync(partitionDir())) {
    if (name.includes('clean')) unlinkSync(path.join(partitionDir(), name))
  }
}

it('opens a cleanly closed log without truncating anything', async () => {
  const report = await reopen()
  expect(report.clean).toBe(true)
  expect(report.truncations).toEqual([])
  expect(await values()).toEqual(expected(50))
})

it('truncates a torn tail and reports it', async () => {
  removeMarker()
  appendFileSync(segmentFile('.log'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 1, 0, 0]))
  const report = await reopen()
  expect(report.clean).toBe(false)
  expect(report.truncations).toHaveLength(1)
  expect(report.truncations[0]!.bytesRemoved).toBe(13)
  expect(await values()).toEqual(expected(50))
  expect((await log.append('r', 0, [{ value: 'next' }])).baseOffset).toBe(50)
})

it('truncates at a flipped bit inside a batch and keeps everything before it', async () => {
  removeMarker()
  const file = segmentFile('.log')
  const bytes = readFileSync(file)
  const batchBytes = bytes.length / 50
  bytes[Math.floor(batchBytes * 40 + 70)]! ^= 0x10
  writeFileSync(file, bytes)
  const report = await reopen()
  expect(report.truncations).toHaveLength(1)
  expect(report.truncations[0]!.reason).toMatch(/CRC|corrupt/i)
  expect(await values()).toEqual(expected(40))
})

it('rebuilds a deleted index and a garbage index, and reports each', async () => {
  unlinkSync(segmentFile('.index'))
  removeMarker()
  let report = await reopen()
  expect(report.indexesRebuilt.length).toBeGreaterThan(0)
  expect(await values()).toEqual(expected(50))
  const { records } = await log.read('r', 0, 33)
  expect(records[0]!.offset).toBe(33)
  await log.close()

  writeFileSync(segmentFile('.index'), Buffer.alloc(64, 0xff))
  removeMarker()
  report = await reopen()
  expect(report.indexesRebuilt.length).toBeGreaterThan(0)
  expect((await log.read('r', 0, 47)).records[0]!.offset).toBe(47)
})
