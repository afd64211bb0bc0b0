// Proves the assignors give every subscribed partition to exactly one subscriber, evenly, and
// that sluice's ConsumerProtocol bytes are kafkajs's own (both directions), decoders refusing junk.
import fc from 'fast-check'
import { AssignerProtocol } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { rangeAssignor, roundRobinAssignor, type Assignor } from '../../src/groups/assignors.js'
import {
  decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription,
} from '../../src/groups/consumer-protocol.js'
import { isSluiceError } from '../../src/errors.js'

const groupArbitrary = fc.record({
  topicPartitions: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'),
    fc.integer({ min: 0, max: 20 }), { minKeys: 1 }),
  memberCount: fc.integer({ min: 1, max: 7 }),
  sameSubscriptions: fc.boolean(),
  seed: fc.integer(),
})

function checkAssignor(assignor: Assignor) {
  fc.assert(fc.property(groupArbitrary, (group) => {
    const { topicPartitions, memberCount, sameSubscriptions, seed } = group
    const topics = Object.keys(topicPartitions)
    const members = Array.from({ length: memberCount }, (_, i) => ({
      memberId: `m${(i * 7919 + seed) % 1000}-${i}`,
      topics: sameSubscriptions ? topics : topics.filter((_, t) => (t + i) % 2 === 0 || t === 0),
    }))
    const counts = new Map(Object.entries(topicPartitions))
    const result = assignor.assign(members, counts)
    expect([...result.keys()].sort()).toEqual(members.map((m) => m.memberId).sort())
    for (const topic of topics) {
      const owners = new Map<number, string>()
      for (const [memberId, assigned] of result) {
        for (const partition of assigned.get(topic) ?? []) {
          expect(owners.has(partition)).toBe(false)
          owners.set(partition, memberId)
          expect(members.find((m) => m.memberId === memberId)!.topics).toContain(topic)
        }
      }
      const subscribed = members.some((m) => m.topics.includes(topic))
      expect(owners.size).toBe(subscribed ? topicPartitions[topic] : 0)
    }
    if (sameSubscriptions) {
      const totals = [...result.values()].map((t) => [...t.values()].flat().length)
      if (assignor === roundRobinAssignor) {
        expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(1)
      }
      for (const topic of topics) {
        const perTopic = [...result.values()].map((t) => (t.get(topic) ?? []).length)
        if (assignor === rangeAssignor) {
          expect(Math.max(...perTopic) - Math.min(...perTopic)).toBeLessThanOrEqual(1)
        }
      }
    }
  }))
}

describe('assignors', () => {
  it('range covers every partition once, contiguous runs per topic', () => {
    checkAssignor(rangeAssignor)
    const result = rangeAssignor.assign(
      [{ memberId: 'b', topics: ['t'] }, { memberId: 'a', topics: ['t'] }], new Map([['t', 5]]))
    expect(result.get('a')!.get('t')).toEqual([0, 1, 2])
    expect(result.get('b')!.get('t')).toEqual([3, 4])
  })

  it('round-robin covers every partition once, dealt in turn', () => {
    checkAssignor(roundRobinAssignor)
    const members = ['m1', 'm2', 'm3'].map((memberId) => ({ memberId, topics: ['t'] }))
    const result = roundRobinAssignor.assign(members, new Map([['t', 6]]))
    expect([...result.values()].map((t) => t.get('t'))).toEqual([[0, 3], [1, 4], [2, 5]])
  })
})

describe('consumer protocol', () => {
  it('encodes subscriptions and assignments exactly as kafkajs does, and decodes kafkajs bytes',
    () => {
      fc.assert(fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 5 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }),
          fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 6 })),
        (topics, userDataBytes, assignment) => {
          const userData = Buffer.from(userDataBytes)
          const ours = encodeSubscription({ version: 0, topics, userData })
          const kafkajsMetadata = AssignerProtocol.MemberMetadata.encode({ version: 0, topics,
            userData })
          expect(ours.equals(kafkajsMetadata)).toBe(true)
          expect(decodeSubscription(ours)).toEqual({ version: 0, topics, userData })
          const theirs = AssignerProtocol.MemberAssignment.encode({ version: 0, assignment,
            userData })
          expect(encodeAssignment({ version: 0, assignment, userData }).equals(theirs)).toBe(true)
          expect({ ...decodeAssignment(theirs)!.assignment }).toEqual(assignment)
        }))
    })

  it('reads an empty assignment as null and refuses truncated or inflated buffers', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toBeNull()
    const good = encodeSubscription({ version: 0, topics: ['abc'], userData: Buffer.alloc(0) })
    for (let cut = 1; cut < good.length; cut++) {
      expect(() => decodeSubscription(good.subarray(0, cut))).toThrow()
    }
    const inflated = Buffer.from(good)
    inflated.writeInt32BE(0x7fffffff, 2)
    try {
      decodeSubscription(inflated)
      expect.unreachable('an absurd topic count must be refused')
    } catch (error) {
      expect(isSluiceError(error, 'SLUICE_ERR_CORRUPT_BATCH')).toBe(true)
    }
  })
})
