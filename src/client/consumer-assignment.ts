/**
 * A consumer's view of the partitions it owns in the current generation: for each, the next
 * offset to fetch (kafkajs's resolved offset: the message after the last one handled), the offset
 * last committed, whether it is paused, and any seek waiting to be applied.
 *
 * Invariants: `next` only moves forward by resolving handled messages or backward/forward by an
 * explicit seek or an out-of-range reset; `uncommitted()` lists exactly the partitions whose next
 * offset differs from what the group last committed for them.
 */
import type { FetchPosition } from './partition-fetcher.js'
import type { TopicPartitions } from './types.js'

export interface PartitionState extends FetchPosition {
  committed: number
}

export class ConsumerAssignment {
  private readonly states = new Map<string, PartitionState>()
  private readonly pausedTopics = new Set<string>()
  private readonly pausedPartitions = new Set<string>()
  private readonly seeks = new Map<string, { topic: string; partition: number; offset: number }>()

  /** Replaces the owned partitions; pauses persist across generations, as in kafkajs. */
  assign(states: PartitionState[]): void {
    this.states.clear()
    for (const state of states) this.states.set(keyOf(state.topic, state.partition), state)
  }

  clear(): void {
    this.states.clear()
  }

  owns(topic: string, partition: number): boolean {
    return this.states.has(keyOf(topic, partition))
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(keyOf(topic, partition))
  }

  all(): PartitionState[] {
    return [...this.states.values()]
  }

  /** Owned, unpaused partitions, with pending seeks applied first. */
  active(): PartitionState[] {
    return this.all().filter((s) => !this.isPaused(s.topic, s.partition))
  }

  resolve(topic: string, partition: number, offset: number): void {
    const state = this.get(topic, partition)
    if (state !== undefined) state.offset = offset + 1
  }

  uncommitted(): { topic: string; partition: number; offset: number }[] {
    return this.all()
      .filter((s) => s.offset !== s.committed)
      .map((s) => ({ topic: s.topic, partition: s.partition, offset: s.offset }))
  }

  markCommitted(topic: string, partition: number, offset: number): void {
    const state = this.get(topic, partition)
    if (state !== undefined) state.committed = offset
  }

  // ---- seek ------------------------------------------------------------------------------

  requestSeek(topic: string, partition: number, offset: number): void {
    this.seeks.set(keyOf(topic, partition), { topic, partition, offset })
  }

  hasSeek(topic: string, partition: number): boolean {
    return this.seeks.has(keyOf(topic, partition))
  }

  /** Pending seeks of owned partitions, removed from the queue; others are dropped. */
  takeSeeks(): { topic: string; partition: number; offset: number }[] {
    if (this.seeks.size === 0) return []
    const taken = [...this.seeks.values()].filter((s) => this.owns(s.topic, s.partition))
    this.seeks.clear()
    return taken
  }

  // ---- pause -----------------------------------------------------------------------------

  pause(entries: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of entries) {
      if (partitions === undefined) this.pausedTopics.add(topic)
      else for (const p of partitions) this.pausedPartitions.add(keyOf(topic, p))
    }
  }

  resume(entries: { topic: string; partitions?: number[] }[]): void {
    for (const { topic, partitions } of entries) {
      if (partitions === undefined) {
        this.pausedTopics.delete(topic)
        for (const key of [...this.pausedPartitions]) {
          if (key.startsWith(`${topic}\u0000`)) this.pausedPartitions.delete(key)
        }
      } else {
        for (const p of partitions) this.pausedPartitions.delete(keyOf(topic, p))
      }
    }
  }

  isPaused(topic: string, partition: number): boolean {
    return this.pausedTopics.has(topic) || this.pausedPartitions.has(keyOf(topic, partition))
  }

  /** kafkajs's paused(): owned partitions that are paused, grouped by topic. */
  paused(): TopicPartitions[] {
    const byTopic = new Map<string, number[]>()
    for (const state of this.all()) {
      if (!this.isPaused(state.topic, state.partition)) continue
      byTopic.set(state.topic, [...(byTopic.get(state.topic) ?? []), state.partition])
    }
    return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
  }
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}
