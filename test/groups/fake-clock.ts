/** A GroupClock that moves only when a test advances it, firing due callbacks in time order. */
import type { GroupClock } from '../../src/groups/types.js'

export class FakeClock implements GroupClock {
  private nowMs = 0
  private nextId = 0
  private readonly timers = new Map<number, { dueMs: number; callback: () => void }>()

  now(): number {
    return this.nowMs
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const id = this.nextId++
    this.timers.set(id, { dueMs: this.nowMs + delayMs, callback })
    return () => this.timers.delete(id)
  }

  /** Moves time forward, running each timer that falls due, earliest first. */
  advance(ms: number): void {
    const targetMs = this.nowMs + ms
    for (;;) {
      let next: [number, { dueMs: number; callback: () => void }] | null = null
      for (const entry of this.timers) {
        if (next === null || entry[1].dueMs < next[1].dueMs) next = entry
      }
      if (next === null || next[1].dueMs > targetMs) break
      this.timers.delete(next[0])
      this.nowMs = next[1].dueMs
      next[1].callback()
    }
    this.nowMs = targetMs
  }
}
