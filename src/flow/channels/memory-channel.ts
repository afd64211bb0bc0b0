/**
 * Flume's memory channel (MemoryChannel.java, reference §3.2): a bounded in-memory queue.
 *
 * Invariants:
 *   - `permitsUsed` counts committed events not yet commit-taken, so an event a sink holds in an
 *     open take keeps its slot until that take commits; permitsUsed ≤ capacity always.
 *   - capacity (events) and byteCapacity (body bytes, in Flume's 100-byte slots; under one slot
 *     means unbounded, as in Flume) are checked at commit; a put commit waits up to keep-alive
 *     for room, then fails with SLUICE_ERR_CHANNEL_FULL, which the source turns into push-back
 *     (503, FAILED, pause).
 *   - a rolled-back take returns its events to the head in their original order.
 * Unlike Flume, take() on an empty channel returns null at once instead of waiting keep-alive:
 * the sink runner's back-off wakes on new data (sink-runner.ts), so nothing spins and a sink's
 * partial batch is not held back 3 s. Contents are lost when the process dies, as in Flume.
 */
import * as v8 from 'node:v8'
import { Deque } from '../deque.js'
import type { FlowEvent } from '../event.js'
import { channelCounter, type ChannelCounter } from '../metrics/counters.js'
import { Signal } from '../signal.js'
import {
  StagedTransaction, channelFull, type Channel, type StagingChannel, type Transaction,
} from '../transaction.js'

export interface MemoryChannelOptions {
  capacity?: number
  transactionCapacity?: number
  /** Body bytes the channel may hold; default 80% of the V8 heap limit, like Flume's -Xmx. */
  byteCapacity?: number
  byteCapacityBufferPercentage?: number
  keepAliveSeconds?: number
}

const SLOT_BYTES = 100

export const slotsOf = (event: FlowEvent): number => Math.ceil(event.body.byteLength / SLOT_BYTES)

/**
 * Body slots a byteCapacity allows once the buffer percentage is set aside. As in Flume's
 * MemoryChannel.configure, fewer than one slot (byteCapacity 0, or a value under one slot after
 * the buffer) means no byte bound: otherwise every put would wait keep-alive and fail.
 */
export function byteCapacitySlotsOf(byteCapacity: number, bufferPercentage: number): number {
  const slots = Math.floor(byteCapacity * (1 - bufferPercentage / 100) / SLOT_BYTES)
  return slots < 1 ? Number.POSITIVE_INFINITY : slots
}

export class MemoryChannel implements Channel, StagingChannel<FlowEvent> {
  readonly type = 'memory'
  readonly capacity: number
  readonly transactionCapacity: number
  readonly counter: ChannelCounter
  readonly dataAvailable = new Signal()
  readonly byteCapacitySlots: number
  readonly keepAliveMs: number
  private readonly queue = new Deque<FlowEvent>()
  private readonly spaceFreed = new Signal()
  private permitsUsed = 0
  private slotsUsed = 0

  constructor(readonly name: string, options: MemoryChannelOptions = {}) {
    this.capacity = options.capacity ?? 100
    this.transactionCapacity = options.transactionCapacity ?? 100
    const byteCapacity = options.byteCapacity
      ?? Math.floor(v8.getHeapStatistics().heap_size_limit * 0.8)
    const bufferPercentage = options.byteCapacityBufferPercentage ?? 20
    this.byteCapacitySlots = byteCapacitySlotsOf(byteCapacity, bufferPercentage)
    this.keepAliveMs = (options.keepAliveSeconds ?? 3) * 1000
    this.counter = channelCounter(name)
  }

  async start(): Promise<void> {
    this.counter.start()
  }

  async stop(): Promise<void> {
    this.counter.stop()
  }

  size(): number {
    return this.queue.length
  }

  /** Committed bytes in the channel, for byteCapacity and the metrics. */
  bodySlots(): number {
    return this.slotsUsed
  }

  getTransaction(): Transaction {
    return new StagedTransaction(this)
  }

  // ---- StagingChannel: what its StagedTransactions call ---------------------------------

  eventOf(event: FlowEvent): FlowEvent {
    return event
  }

  takeOne(): FlowEvent | null {
    return this.queue.shift() ?? null
  }

  async commitPuts(puts: FlowEvent[]): Promise<void> {
    const slots = puts.reduce((sum, event) => sum + slotsOf(event), 0)
    const deadline = Date.now() + this.keepAliveMs
    for (;;) {
      const roomForEvents = this.permitsUsed + puts.length <= this.capacity
      const roomForBytes = this.slotsUsed + slots <= this.byteCapacitySlots
      if (roomForEvents && roomForBytes) break
      const leftMs = deadline - Date.now()
      if (leftMs <= 0 || !(await this.spaceFreed.wait(leftMs))) {
        if (!roomForEvents) {
          throw channelFull(`Space for commit to queue couldn't be acquired on channel ` +
            `${this.name}. Sinks are likely not keeping up with sources, or the buffer size ` +
            'is too tight')
        }
        throw channelFull(`Cannot commit transaction on channel ${this.name}. Byte capacity ` +
          `allocated to store event body ${this.byteCapacitySlots * SLOT_BYTES} reached. ` +
          'Please increase heap space/byte capacity allocated or add more sinks')
      }
    }
    this.permitsUsed += puts.length
    this.slotsUsed += slots
    for (const event of puts) this.queue.pushBack(event)
    this.dataAvailable.notify()
  }

  commitTakes(takes: FlowEvent[]): void {
    this.permitsUsed -= takes.length
    for (const event of takes) this.slotsUsed -= slotsOf(event)
    this.spaceFreed.notify()
  }

  rollbackTakes(takes: FlowEvent[]): void {
    for (let i = takes.length - 1; i >= 0; i--) this.queue.pushFront(takes[i]!)
    if (takes.length > 0) this.dataAvailable.notify()
  }
}
