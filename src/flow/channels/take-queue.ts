/**
 * The file channel's take side in memory: the events read ahead from the take generation's log,
 * those handed to a take transaction and not yet committed (in flight), and those rolled back
 * and waiting to be taken again. Rolled-back events come first, in their order, then the read
 * ahead ones; the log is read from `readOffset` on.
 *
 * The channel persists lowestUntaken() as its take position: nothing below it may come back
 * after a restart, everything at or above it does (so an event whose take did not commit is
 * delivered again: duplicates, never loss).
 *
 * Invariants: an offset is in at most one of the three places; every offset held belongs to the
 * take generation, so the channel moves to the next one only when isEmpty; readOffset is past
 * every offset held.
 */
import type { StoredRecord } from '../../engine/types.js'
import { Deque } from '../deque.js'
import type { FlowEvent } from '../event.js'

/** An event and its offset in the take generation's log. */
export interface StoredEvent {
  offset: number
  event: FlowEvent
}

export class TakeQueue {
  private readonly redeliver = new Deque<StoredEvent>()
  private readonly readAhead = new Deque<StoredEvent>()
  private readonly inFlight = new Set<number>()
  private nextReadOffset = 0

  /** The next offset to read from the take generation's log. */
  get readOffset(): number {
    return this.nextReadOffset
  }

  get inFlightCount(): number {
    return this.inFlight.size
  }

  /** Nothing read ahead, in flight or waiting for redelivery. */
  get isEmpty(): boolean {
    return this.inFlight.size === 0 && this.redeliver.length === 0 && this.readAhead.length === 0
  }

  /** Reads from `offset` on: at open, and at the start of each new take generation. */
  restartAt(offset: number): void {
    this.nextReadOffset = offset
  }

  /** The next event to take, rolled-back ones first; it is in flight from now on. */
  take(): StoredEvent | undefined {
    return this.markInFlight(this.redeliver.shift() ?? this.readAhead.shift())
  }

  /** The next read-ahead event only (the taker that just filled the queue); in flight too. */
  takeReadAhead(): StoredEvent | undefined {
    return this.markInFlight(this.readAhead.shift())
  }

  /** Queues what a log read returned, skipping offsets already read. */
  addRead(records: readonly StoredRecord[]): void {
    for (const record of records) {
      if (record.offset < this.nextReadOffset) continue
      this.readAhead.pushBack({ offset: record.offset, event: toEvent(record) })
      this.nextReadOffset = record.offset + 1
    }
  }

  /** Their take is committing: they are no longer in flight. */
  settle(takes: readonly StoredEvent[]): void {
    for (const taken of takes) this.inFlight.delete(taken.offset)
  }

  /** Their take commit failed: in flight again, for the transaction's rollback. */
  unsettle(takes: readonly StoredEvent[]): void {
    for (const taken of takes) this.inFlight.add(taken.offset)
  }

  /** Rolled-back takes go back to the head, in the order they were taken. */
  rollback(takes: readonly StoredEvent[]): void {
    for (let i = takes.length - 1; i >= 0; i--) {
      this.inFlight.delete(takes[i]!.offset)
      this.redeliver.pushFront(takes[i]!)
    }
  }

  /** The lowest offset whose take has not committed: nothing below it may come back. */
  lowestUntaken(): number {
    let lowest = this.readAhead.peek()?.offset ?? this.nextReadOffset
    for (const stored of this.redeliver) lowest = Math.min(lowest, stored.offset)
    for (const offset of this.inFlight) lowest = Math.min(lowest, offset)
    return lowest
  }

  private markInFlight(next: StoredEvent | undefined): StoredEvent | undefined {
    if (next !== undefined) this.inFlight.add(next.offset)
    return next
  }
}

function toEvent(record: StoredRecord): FlowEvent {
  const headers: Record<string, string> = {}
  for (const header of record.headers) headers[header.key] = header.value?.toString('utf8') ?? ''
  // Copy: record values may be views of the shared tail window.
  return { headers, body: Buffer.from(record.value ?? Buffer.alloc(0)) }
}
