/**
 * Whether the file channel has room for a put commit, with Flume's two limits and messages:
 *
 *   minimumRequiredSpace  free bytes that must stay on the data volume after the batch (about
 *                         its bodies plus 64 bytes an event). Checked once: a put fails at once
 *                         with SLUICE_ERR_CHANNEL_FULL, since waiting frees no disk.
 *   capacity              events committed or being committed. A put waits up to keep-alive for
 *                         takes to free room (spaceFreed), then fails with SLUICE_ERR_CHANNEL_FULL.
 *
 * An admitted batch is reserved until its append ends (release), so concurrent puts cannot all
 * pass the capacity check on the same room.
 *
 * Invariant: committed + reserved events never exceed capacity by an admission made here.
 */
import type { FlowEvent } from '../event.js'
import { Signal } from '../signal.js'
import { channelFull } from '../transaction.js'

/** The space check's estimate of what an event costs on disk beyond its body (framing, headers). */
const EVENT_OVERHEAD_BYTES = 64

export interface PutLimits {
  channelName: string
  /** Events. */
  capacity: number
  keepAliveMs: number
  minimumRequiredSpace: number
  /** Free bytes now on the volume of the channel's data directory. */
  freeBytes: () => number
  /** Events committed and not yet taken, read again after every wait. */
  committedEvents: () => number
}

export class PutAdmission {
  private readonly room = new Signal()
  private reservedEvents = 0

  constructor(private readonly limits: PutLimits) {}

  /** Resolves once `puts` fit (and reserves them); throws SLUICE_ERR_CHANNEL_FULL otherwise. */
  async reserve(puts: FlowEvent[]): Promise<void> {
    const { channelName, capacity, minimumRequiredSpace } = this.limits
    const batchBytes = puts.reduce((sum, event) =>
      sum + event.body.byteLength + EVENT_OVERHEAD_BYTES, 0)
    const freeBytes = this.limits.freeBytes()
    if (freeBytes - batchBytes < minimumRequiredSpace) {
      throw channelFull(`Usable space exhausted on channel ${channelName}, only ${freeBytes} ` +
        `bytes remaining, required ${minimumRequiredSpace + batchBytes} bytes`)
    }
    const deadline = Date.now() + this.limits.keepAliveMs
    while (this.limits.committedEvents() + this.reservedEvents + puts.length > capacity) {
      const leftMs = deadline - Date.now()
      if (leftMs <= 0 || !(await this.room.wait(leftMs))) {
        throw channelFull(`The channel ${channelName} has reached its capacity ` +
          `${capacity}. This might be the result of a sink on the channel having too ` +
          'low of batch size, a downstream system running slower than normal, or that the ' +
          'channel capacity is just too low')
      }
    }
    this.reservedEvents += puts.length
  }

  /** The reserved batch's append has ended, committed or failed. */
  release(eventCount: number): void {
    this.reservedEvents -= eventCount
  }

  /** Takes committed: puts waiting for capacity look again. */
  spaceFreed(): void {
    this.room.notify()
  }
}
