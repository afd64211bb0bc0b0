// Proves sluice's murmur2 and DefaultPartitioner match kafkajs's (and so Java's) on arbitrary
// keys — strings of any script and raw bytes of every length — and that keyless messages rotate.
import fc from 'fast-check'
import { Partitioners } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { DefaultPartitioner, murmur2 } from '../../src/client/partitioner.js'

const metadata = (count: number) => Array.from({ length: count }, (_, partitionId) => ({
  partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))

describe('DefaultPartitioner', () => {
  it('chooses the same partition as kafkajs for any key and partition count', () => {
    const theirs = Partitioners.DefaultPartitioner()
    const ours = DefaultPartitioner()
    fc.assert(fc.property(
      fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes))),
      fc.integer({ min: 1, max: 500 }),
      (key, count) => {
        const partitionMetadata = metadata(count)
        const message = { key, value: null }
        expect(ours({ topic: 't', partitionMetadata, message }))
          .toBe(theirs({ topic: 't', partitionMetadata, message }))
      }), { numRuns: 2000 })
  })

  it('matches murmur2 values known from the Java client', () => {
    // Kafka's UtilsTest.testMurmur2 pairs.
    expect(murmur2(Buffer.from('21'))).toBe(-973932308)
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482)
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536)
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829)
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971)
    expect(murmur2(Buffer.from([0x61, 0x62, 0x63]))).toBe(479470107)
  })

  it('honours an explicit partition and rotates keyless messages over every partition', () => {
    const ours = DefaultPartitioner()
    const partitionMetadata = metadata(4)
    const placed = { key: 'x', value: null, partition: 3 }
    expect(ours({ topic: 't', partitionMetadata, message: placed })).toBe(3)
    const seen = new Set<number>()
    for (let i = 0; i < 4; i++) seen.add(ours({ topic: 't', partitionMetadata,
      message: { value: null } }))
    expect([...seen].sort()).toEqual([0, 1, 2, 3])
  })
})
