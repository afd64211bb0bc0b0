// Proves that Debian's kcat (librdkafka 2.0.2) can produce to and consume from `sluice broker`:
// `kcat -P` then `kcat -C -e` returns exactly the records sent (keys, null keys, values,
// tombstones, headers with null and empty values, CreateTime timestamps, per-partition offsets),
// uncompressed, gzip and lz4; a fetch from a mid-batch offset starts exactly there; records
// with explicit timestamps written by another client (kafkajs) come back with those timestamps;
// and 256 MiB produced at librdkafka's full pipelining (many ~1 MB Produce requests in flight,
// as a real producer sends them) come back every record, in order, at its offset.
import { createWriteStream } from 'node:fs'
import * as path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertGateOpen, byPartitionOffset, interopGate, kcatMissing, killChildren, parseJsonLines,
  runOk, startBroker, type BrokerProcess, type KcatRecord,
} from './interop-kit.js'
import { tempDir } from '../helpers.js'

const gate = interopGate('kcat', kcatMissing())
const BOUNDED = ['-m', '10', '-X', 'message.timeout.ms=15000', '-X', 'socket.timeout.ms=10000']

/** What every record gets from `-H`: duplicate names kept in order, a null and an empty value. */
const HEADER_ARGS = ['-H', 'trace=abc', '-H', 'trace=dëf', '-H', 'flag', '-H', 'empty=']
const HEADERS = ['trace', 'abc', 'trace', 'dëf', 'flag', null, 'empty', '']

interface Sent {
  partition: number
  key: string | null
  payload: string | null
}

/** Partition 0: keyed, unicode with colons, no key (no tab on the line), an empty key. */
const PARTITION_0: { line: string; sent: Sent }[] = [
  { line: 'alpha\tfirst value', sent: { partition: 0, key: 'alpha', payload: 'first value' } },
  { line: 'beta\tsecond: ünïcode ✓ and a : colon',
    sent: { partition: 0, key: 'beta', payload: 'second: ünïcode ✓ and a : colon' } },
  { line: 'no key on this line',
    sent: { partition: 0, key: null, payload: 'no key on this line' } },
  { line: '\tempty key', sent: { partition: 0, key: '', payload: 'empty key' } },
]
/** Partition 1, produced with -Z: a keyed record and a tombstone (null value). */
const PARTITION_1: { line: string; sent: Sent }[] = [
  { line: 'gamma\tthird', sent: { partition: 1, key: 'gamma', payload: 'third' } },
  { line: 'delta\t', sent: { partition: 1, key: 'delta', payload: null } },
]

let broker: BrokerProcess

beforeAll(async () => {
  if (gate.skip) return
  assertGateOpen(gate)
  broker = await startBroker({ args: ['--default-partitions', '2'] })
})

afterAll(async () => {
  await broker?.cleanup()
  killChildren()
})

async function kcatProduce(topic: string, partition: number, lines: string[], extra: string[]) {
  await runOk('kcat', ['-P', '-b', broker.bootstrap, '-t', topic, '-p', String(partition),
    '-K', '\\t', ...HEADER_ARGS, ...BOUNDED, ...extra], { input: `${lines.join('\n')}\n` })
}

async function kcatConsumeAll(topic: string, extra: string[] = []): Promise<KcatRecord[]> {
  const { stdout } = await runOk('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-e', '-J',
    '-q', ...BOUNDED, ...extra])
  return byPartitionOffset(parseJsonLines<KcatRecord>(stdout))
}

/** Writes `count` lines made by `line(n)` to `file`, respecting backpressure. */
async function writeLines(file: string, count: number, line: (n: number) => string) {
  const out = createWriteStream(file)
  for (let n = 0; n < count; n++) {
    if (!out.write(`${line(n)}\n`)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) =>
    error ? reject(error) : resolve()))
}

/** kcat's JSON for one partition's records, in produce order: offsets count from 0. */
function expected(topic: string, sent: Sent[]) {
  return sent.map((s, offset) => ({ topic, partition: s.partition, offset, tstype: 'create',
    broker: expect.any(Number) as unknown, headers: HEADERS, key: s.key, payload: s.payload }))
}

describe.skipIf(gate.skip)('kcat -P then kcat -C -e', () => {
  it.each(['none', 'gzip', 'lz4'])('round-trips keys, values, headers, timestamps, offsets (%s)',
    async (codec) => {
      const topic = `kcat-round-trip-${codec}`
      const compression = codec === 'none' ? [] : ['-z', codec]
      const before = Date.now()
      await kcatProduce(topic, 0, PARTITION_0.map((r) => r.line), compression)
      await kcatProduce(topic, 1, PARTITION_1.map((r) => r.line), [...compression, '-Z'])
      const after = Date.now()

      const got = await kcatConsumeAll(topic)
      expect(got.map(({ ts: _ts, ...rest }) => rest)).toEqual([
        ...expected(topic, PARTITION_0.map((r) => r.sent)),
        ...expected(topic, PARTITION_1.map((r) => r.sent)),
      ])
      for (const record of got) {
        expect(record.ts).toBeGreaterThanOrEqual(before)
        expect(record.ts).toBeLessThanOrEqual(after)
      }
      const brokerIds = new Set(got.map((r) => r.broker))
      expect(brokerIds.size).toBe(1)

      const fromOffsetTwo = await kcatConsumeAll(topic, ['-p', '0', '-o', '2'])
      expect(fromOffsetTwo).toEqual(got.filter((r) => r.partition === 0 && r.offset >= 2))
    })

  it('round-trips 256 MiB of 1 KiB records produced at full pipelining', async () => {
    // As a real producer sends them: librdkafka's defaults, ~1 MB batches, many requests in
    // flight. Each record's key is its number, so a lost, repeated or misplaced batch shows.
    const topic = 'kcat-pipelined'
    const count = 256 * 1024
    const scratch = tempDir('sluice-interop-input-')
    try {
      const file = path.join(scratch.dir, 'records.txt')
      await writeLines(file, count, (n) => `${n}\t${'v'.repeat(1023 - String(n).length)}${n % 10}`)
      await runOk('kcat', ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-K', '\\t',
        '-l', file, ...BOUNDED, '-X', 'message.timeout.ms=150000'], { timeoutMs: 180_000 })
    } finally {
      scratch.remove()
    }
    const { stdout } = await runOk('kcat', ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0',
      '-o', 'beginning', '-e', '-q', '-f', '%o %k %S\n', ...BOUNDED],
    { timeoutMs: 180_000, maxStdoutBytes: 32 * 1024 * 1024 })
    const lines = stdout.split('\n').filter((line) => line !== '')
    const wrong = lines.map((line, i) => ({ i, line }))
      .filter(({ i, line }) => line !== `${i} ${i} ${1024 - String(i).length}`)
    expect({ records: lines.length, wrong: wrong.length, firstWrong: wrong[0] ?? null })
      .toEqual({ records: count, wrong: 0, firstWrong: null })
  }, 240_000)

  it('returns the exact timestamps another client set (kafkajs produce, kcat consume)',
    async () => {
      const topic = 'kcat-explicit-timestamps'
      const kafka = new Kafka({ clientId: 'interop-kcat', brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING, retry: { retries: 2 } })
      const producer = kafka.producer()
      await producer.connect()
      const base = 1_700_000_000_000
      const messages = [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}`, partition: 0,
        timestamp: String(base + i * 3_600_000), headers: { n: String(i) } }))
      try {
        await producer.send({ topic, acks: -1, messages })
      } finally {
        await producer.disconnect()
      }
      const got = await kcatConsumeAll(topic, ['-p', '0', '-o', 'beginning'])
      expect(got).toEqual(messages.map((m, i) => ({ topic, partition: 0, offset: i,
        tstype: 'create', ts: Number(m.timestamp), broker: got[0]!.broker,
        headers: ['n', String(i)], key: m.key, payload: m.value })))
    })
})
