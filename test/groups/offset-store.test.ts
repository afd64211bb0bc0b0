// Proves committed offsets are stored in __consumer_offsets in Kafka's key/value layout: codecs
// round-trip and refuse damaged bytes, and the Log-backed store replays every write, tombstones
// included, after the log is closed and reopened.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { Log, isSluiceError } from '../../src/index.js'
import {
  LogOffsetStore, OFFSETS_TOPIC, decodeOffsetKey, decodeOffsetValue, encodeOffsetKey,
  encodeOffsetValue,
} from '../../src/groups/offset-store.js'
import { tempDir } from '../helpers.js'

let cleanup: (() => Promise<void>) | null = null

afterEach(async () => {
  await cleanup?.()
  cleanup = null
})

describe('offset codecs', () => {
  it('round-trip keys and values', () => {
    fc.assert(fc.property(
      fc.string(), fc.string({ minLength: 1 }), fc.integer({ min: 0, max: 1e6 }),
      fc.record({
        offset: fc.integer({ min: -2, max: Number.MAX_SAFE_INTEGER }),
        leaderEpoch: fc.integer({ min: -1, max: 1000 }),
        metadata: fc.option(fc.string(), { nil: null }),
        commitTimestampMs: fc.integer({ min: 0, max: 4e12 }),
      }),
      (groupId, topic, partition, value) => {
        expect(decodeOffsetKey(encodeOffsetKey(groupId, topic, partition)))
          .toEqual({ groupId, topic, partition })
        expect(decodeOffsetValue(encodeOffsetValue(value))).toEqual(value)
      }))
  })

  it('writes Kafka\'s version-1 key layout byte for byte', () => {
    expect(encodeOffsetKey('g', 't', 2).toString('hex')).toBe('0001' + '0001' + '67' + '0001' +
      '74' + '00000002')
  })

  it('refuses every truncation and trailing junk', () => {
    const key = encodeOffsetKey('group', 'topic', 1)
    const value = encodeOffsetValue({ offset: 5, leaderEpoch: -1, metadata: 'm',
      commitTimestampMs: 1 })
    for (let cut = 0; cut < key.length; cut++) {
      expect(() => decodeOffsetKey(key.subarray(0, cut))).toThrow()
    }
    for (let cut = 0; cut < value.length; cut++) {
      expect(() => decodeOffsetValue(value.subarray(0, cut))).toThrow()
    }
    try {
      decodeOffsetValue(Buffer.concat([value, Buffer.from([0])]))
      expect.unreachable()
    } catch (error) {
      expect(isSluiceError(error, 'SLUICE_ERR_CORRUPT_BATCH')).toBe(true)
    }
  })
})

describe('LogOffsetStore', () => {
  it('replays writes and tombstones in order after the log reopens', async () => {
    const scratch = tempDir()
    let log = await Log.open({ dataDir: scratch.dir, shards: 1 })
    cleanup = async () => { await log.close(); scratch.remove() }
    const store = await LogOffsetStore.open(log)
    const value = (offset: number) => ({ offset, leaderEpoch: -1, metadata: null,
      commitTimestampMs: 1_700_000_000_000 + offset })
    await store.write([{ groupId: 'g', topic: 't', partition: 0, value: value(1) }])
    await store.write([
      { groupId: 'g', topic: 't', partition: 0, value: value(2) },
      { groupId: 'h', topic: 't', partition: 1, value: value(3) },
    ])
    await store.write([{ groupId: 'h', topic: 't', partition: 1, value: null }])
    await log.close()
    log = await Log.open({ dataDir: scratch.dir, shards: 1 })
    expect((await log.describeTopic(OFFSETS_TOPIC)).config).toMatchObject({
      durability: 'fsync', retentionMs: -1, partitions: 1 })
    const replayed = await (await LogOffsetStore.open(log)).load()
    expect(replayed).toEqual([
      { groupId: 'g', topic: 't', partition: 0, value: value(1) },
      { groupId: 'g', topic: 't', partition: 0, value: value(2) },
      { groupId: 'h', topic: 't', partition: 1, value: value(3) },
      { groupId: 'h', topic: 't', partition: 1, value: null },
    ])
  })
})
