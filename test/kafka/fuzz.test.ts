// Fuzzes a live broker over TCP for a few seconds (seeded: KAFKA_FUZZ_SEED replays a run):
// random, truncated, oversized and bit-flipped frames, each on its own connection. Afterwards
// the broker still answers well-formed requests and its memory stayed bounded.
import * as net from 'node:net'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeBatch } from '../../src/format/record-batch.js'
import type { Struct } from '../../src/kafka/protocol/codec.js'
import { seedFromEnv } from '../helpers.js'
import { openBroker, type BrokerFixture } from './broker-fixture.js'
import { WireClient, encodeRequest } from './wire-client.js'

const seed = seedFromEnv('KAFKA_FUZZ_SEED')
const FUZZ_MS = 4000
const MAX_REQUEST_BYTES = 1024 * 1024

let fixture: BrokerFixture

beforeAll(async () => {
  // No auto-creation: a flipped topic name would create a partition, whose tail window
  // (engine memory, MiBs by design) would swamp what this test measures, the protocol layer.
  fixture = await openBroker({ maxRequestBytes: MAX_REQUEST_BYTES, autoCreateTopics: false })
  await fixture.log.createTopic('fuzz', { partitions: 2 })
})

afterAll(async () => {
  await fixture.close()
})

/** Well-formed requests the mutations start from: every common API, harmless arguments. */
function seedRequests(): Buffer[] {
  const batch = encodeBatch([{ key: 'k', value: 'v', headers: { h: 'x' } }])
  const bodies: [number, number, Struct][] = [
    [18, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }],
    [18, 2, {}],
    [3, 8, { topics: [{ name: 'fuzz' }], allowAutoTopicCreation: false }],
    [3, 1, { topics: null }],
    [0, 7, { acks: 1, timeoutMs: 100, transactionalId: null,
      topicData: [{ name: 'fuzz', partitionData: [{ index: 0, records: batch }] }] }],
    [1, 11, { maxWaitMs: 5, minBytes: 1, maxBytes: 4096, topics: [{ topic: 'fuzz',
      partitions: [{ partition: 1, fetchOffset: 0, partitionMaxBytes: 4096 }] }] }],
    [2, 3, { topics: [{ name: 'fuzz', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] }],
    [10, 2, { key: 'g', keyType: 0 }],
    [15, 2, { groups: ['g'] }],
    [16, 2, {}],
    [9, 4, { groupId: 'g', topics: null }],
  ]
  return bodies.map(([key, version, body], i) => encodeRequest(key, version, i + 1, body))
}

function withSize(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(4 + body.length)
  frame.writeInt32BE(body.length)
  frame.set(body, 4)
  return frame
}

function frameArbitrary(seeds: Buffer[]): fc.Arbitrary<{ kind: string; bytes: Buffer }> {
  const pick = fc.integer({ min: 0, max: seeds.length - 1 }).map((i) => seeds[i]!)
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'random', bytes: withSize(b) })),
    fc.uint8Array({ maxLength: 64 }).map((b) => ({ kind: 'raw', bytes: Buffer.from(b) })),
    fc.tuple(pick, fc.nat()).map(([frame, cut]) =>
      ({ kind: 'truncated', bytes: frame.subarray(0, cut % frame.length) })),
    fc.tuple(pick, fc.integer({ min: MAX_REQUEST_BYTES + 1, max: 2 ** 31 - 1 }))
      .map(([frame, size]) => {
        const bytes = Buffer.from(frame)
        bytes.writeInt32BE(size)
        return { kind: 'oversized', bytes }
      }),
    fc.tuple(pick, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 7 })), { minLength: 1,
      maxLength: 4 })).map(([frame, flips]) => {
      const bytes = Buffer.from(frame)
      for (const [at, bit] of flips) bytes[4 + (at % (bytes.length - 4))]! ^= 1 << bit
      return { kind: 'bit-flipped', bytes }
    }),
  )
}

/** Sends `bytes` on a fresh connection, half-closes it and waits for the broker to close it. */
function sendAndClose(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes))
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`the broker kept a ${bytes.length}-byte connection open for 10 s`))
    }, 10_000)
    socket.on('data', () => undefined)
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

v8.setFlagsFromString('--expose-gc')
/** A full collection, so retained memory is compared rather than garbage. */
const collectGarbage = vm.runInNewContext('gc') as () => void

function memoryBytes(): number {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

describe('fuzzing a live broker', () => {
  it(`survives ${FUZZ_MS} ms of hostile frames`, async () => {
    const seeds = seedRequests()
    collectGarbage()
    const before = memoryBytes()
    const kinds = new Map<string, number>()
    let peakBytes = before
    await fc.assert(fc.asyncProperty(frameArbitrary(seeds), async ({ kind, bytes }) => {
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
      await sendAndClose(fixture.port, bytes)
      peakBytes = Math.max(peakBytes, memoryBytes())
    }), { seed, numRuns: 1_000_000, interruptAfterTimeLimit: FUZZ_MS,
      markInterruptAsFailure: false })
    collectGarbage()
    const retainedBytes = memoryBytes() - before
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
    console.log('fuzz frames by kind', Object.fromEntries(kinds),
      `peak growth ${mib(peakBytes - before)}, retained ${mib(retainedBytes)}`,
      `topics ${(await fixture.log.listTopics()).length}, log entries ${fixture.entries.length}`)
    expect(kinds.size).toBe(5)
    expect(peakBytes - before).toBeLessThan(128 * 2 ** 20)
    expect(retainedBytes).toBeLessThan(16 * 2 ** 20)

    const wire = await WireClient.connect(fixture.port)
    const versions = await wire.request(18, 3,
      { clientSoftwareName: 'after', clientSoftwareVersion: '1' })
    expect(versions.errorCode).toBe(0)
    const metadata = await wire.request(3, 8, { topics: [{ name: 'fuzz' }] })
    expect(metadata.topics).toMatchObject([{ errorCode: 0, name: 'fuzz' }])
    wire.close()
    expect(fixture.entries.filter((e) => e.level === 'error')).toEqual([])
  })
})
