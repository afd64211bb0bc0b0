// Proves "acknowledged means durable": a child appending with durability 'fsync' is SIGKILLed at
// random moments over 20 rounds; after each reopen every acknowledged record is present with
// identical bytes, offsets have no gaps, and the recovery report of each unclean open says so.
// Every few rounds a torn write is simulated after the kill (random bytes appended to the active
// segment), and the next open's report must name that truncation with its exact byte count.
import { spawn } from 'node:child_process'
import { appendFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { Log } from '../../src/index.js'
import { seedFromEnv, seededRandom, tempDir } from '../helpers.js'

const fixture = fileURLToPath(new URL('../fixtures/crash-appender.mjs', import.meta.url))
const scratch = tempDir('sluice-crash-')
afterAll(() => scratch.remove())

/** Must match expectedValue in the fixture: the value of record i of the append tagged `tag`. */
function expectedValue(tag: string, i: number): string {
  const s = Number(tag.slice(tag.lastIndexOf('-s') + 2))
  return `${tag}-v${i}-${'payload'.repeat(1 + (s % 20))}`
}

interface Ack { partition: number; base: number; last: number; tag: string }
interface RoundReport {
  key: string
  clean: boolean
  truncations: { segment: string; bytesRemoved: number }[]
}
const TORN_EVERY_ROUNDS = 4

/** Appends `bytes` of garbage to partition 0's newest segment, as a torn final write leaves. */
function tearActiveSegment(random: () => number, bytes: number): string {
  const dir = path.join(scratch.dir, 'crash-0')
  const newest = readdirSync(dir).filter((f) => f.endsWith('.log')).sort().at(-1)!
  const garbage = Buffer.from(Array.from({ length: bytes }, () => Math.floor(random() * 256)))
  // A batch header's length field must not make the garbage look like a whole batch.
  garbage.writeBigInt64BE(-1n, 0)
  appendFileSync(path.join(dir, newest), garbage)
  return newest
}

function runRound(round: number, killAfterMs: number)
  : Promise<{ acks: Ack[]; reports: RoundReport[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, scratch.dir, String(round)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const acks: Ack[] = []
    const reports: RoundReport[] = []
    let pending = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const [kind, ...rest] = line.split(' ')
        if (kind === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs)
        if (kind === 'ack') {
          const [partition, base, last, tag] = rest
          acks.push({ partition: Number(partition), base: Number(base), last: Number(last),
            tag: tag! })
        }
        if (kind === 'recovery') {
          const report = JSON.parse(rest.slice(1).join(' ')) as RoundReport
          reports.push({ ...report, key: rest[0]! })
        }
      }
    })
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ acks, reports })
      else reject(new Error(`crash appender exited with code ${code} before it was killed`))
    })
  })
}

it('loses no acknowledged append across 20 SIGKILLs', async () => {
  const random = seededRandom(seedFromEnv('SLUICE_CRASH_SEED'))
  const acks: Ack[] = []
  let torn: { segment: string; bytes: number } | null = null
  let tornChecked = 0
  for (let round = 0; round < 20; round++) {
    const result = await runRound(round, 20 + Math.floor(random() * 300))
    acks.push(...result.acks)
    if (round > 0) {
      expect(result.reports.length).toBeGreaterThan(0)
      for (const report of result.reports) expect(report.clean).toBe(false)
    }
    if (torn !== null) {
      const report = result.reports.find((r) => r.key === 'crash-0')!
      const removed = report.truncations.filter((t) => t.segment === torn!.segment)
        .reduce((sum, t) => sum + t.bytesRemoved, 0)
      expect(removed, `round ${round}: truncation of ${torn.segment}`).toBe(torn.bytes)
      tornChecked++
    }
    torn = null
    if (round % TORN_EVERY_ROUNDS === TORN_EVERY_ROUNDS - 1 && round < 19) {
      const bytes = 20 + Math.floor(random() * 200)
      torn = { segment: tearActiveSegment(random, bytes), bytes }
    }
  }
  expect(tornChecked).toBeGreaterThanOrEqual(4)
  expect(acks.length).toBeGreaterThan(20)

  const log = await Log.open({ dataDir: scratch.dir })
  try {
    for (const report of log.recoveryReports.values()) {
      expect((report as { clean: boolean }).clean).toBe(false)
    }
    for (let partition = 0; partition < 3; partition++) {
      const { records, highWatermark } = await log.read('crash', partition, 0,
        { maxBytes: 256 * 1024 * 1024 })
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: highWatermark }, (_, i) => i))
      for (const ack of acks.filter((a) => a.partition === partition)) {
        expect(ack.last).toBeLessThan(highWatermark)
        for (let offset = ack.base; offset <= ack.last; offset++) {
          const record = records[offset]!
          const i = offset - ack.base
          expect(record.key!.toString()).toBe(`${ack.tag}-k${i}`)
          expect(record.value!.toString()).toBe(expectedValue(ack.tag, i))
        }
      }
    }
  } finally {
    await log.close()
  }
}, 240_000)
