/**
 * Partition assignors: given each member's subscribed topics and each topic's partition count,
 * decide who reads what. They run in the group leader (a client), never in the coordinator.
 *
 *   range       Kafka's RangeAssignor: per topic, members subscribed to it (sorted by id) take
 *               contiguous runs; the first (partitions % members) take one extra.
 *   roundRobin  Kafka's RoundRobinAssignor: every topic-partition (topics sorted, partitions
 *               ascending) dealt in turn to the sorted members, skipping a member not
 *               subscribed to that topic. Named 'RoundRobinAssigner' as in kafkajs.
 *
 * Invariants (property-tested): every partition of a subscribed topic goes to exactly one member
 * that subscribed to it; counts differ by at most one between members with equal subscriptions.
 */

export interface MemberTopics {
  memberId: string
  topics: string[]
}

/** memberId → topic → partitions (ascending). Every member appears, maybe with nothing. */
export type GroupAssignment = Map<string, Map<string, number[]>>

export interface Assignor {
  /** The protocol name members put in JoinGroup. */
  readonly name: string
  readonly version: number
  assign(members: MemberTopics[], partitionCounts: ReadonlyMap<string, number>): GroupAssignment
}

export const rangeAssignor: Assignor = {
  name: 'range',
  version: 0,
  assign(members, partitionCounts) {
    const result = emptyAssignment(members)
    for (const topic of subscribedTopics(members)) {
      const count = partitionCounts.get(topic) ?? 0
      const takers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId).sort()
      const each = Math.floor(count / takers.length)
      const extra = count % takers.length
      takers.forEach((memberId, i) => {
        const start = i * each + Math.min(i, extra)
        const length = each + (i < extra ? 1 : 0)
        if (length > 0) give(result, memberId, topic, range(start, length))
      })
    }
    return result
  },
}

export const roundRobinAssignor: Assignor = {
  name: 'RoundRobinAssigner',
  version: 0,
  assign(members, partitionCounts) {
    const result = emptyAssignment(members)
    const sorted = [...members].sort((a, b) => compare(a.memberId, b.memberId))
    if (sorted.length === 0) return result
    let turn = 0
    for (const topic of subscribedTopics(members)) {
      const count = partitionCounts.get(topic) ?? 0
      for (let partition = 0; partition < count; partition++) {
        // Deal to the next member in the circle that subscribed to this topic.
        for (let tried = 0; tried < sorted.length; tried++) {
          const member = sorted[turn % sorted.length]!
          turn++
          if (member.topics.includes(topic)) {
            give(result, member.memberId, topic, [partition])
            break
          }
        }
      }
    }
    return result
  },
}

export const ASSIGNORS: Record<string, Assignor> = {
  [rangeAssignor.name]: rangeAssignor,
  [roundRobinAssignor.name]: roundRobinAssignor,
}

function emptyAssignment(members: MemberTopics[]): GroupAssignment {
  return new Map(members.map((m) => [m.memberId, new Map<string, number[]>()]))
}

function subscribedTopics(members: MemberTopics[]): string[] {
  return [...new Set(members.flatMap((m) => m.topics))].sort(compare)
}

function give(result: GroupAssignment, memberId: string, topic: string, partitions: number[])
  : void {
  const topics = result.get(memberId)!
  topics.set(topic, [...(topics.get(topic) ?? []), ...partitions])
}

function range(start: number, length: number): number[] {
  return Array.from({ length }, (_, i) => start + i)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
