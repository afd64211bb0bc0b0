/**
 * Reading a consumer's partitions: `collect` takes what is already there (no waiting), across
 * partitions in rotating order so none starves, within maxBytesPerPartition and maxBytes;
 * `waitForAny` sleeps until any of them has data past its position, the time runs out, or the
 * consumer wakes it (stop, seek, pause, rebalance).
 *
 * Waking is the Log's `waitForData` (Atomics.waitAsync on the shared index), never a timer loop.
 * The Log's wait cannot be cancelled, so each partition keeps at most one wait outstanding and
 * reuses it on the next turn: the number of waits is bounded by the assigned partitions.
 */
import type { Log } from '../engine/log.js'
import { isSluiceError } from '../errors.js'
import { batchFromRecords, type ConsumerBatch } from './consumer-batch.js'

export interface FetchPosition {
  topic: string
  partition: number
  /** Next offset to read. */
  offset: number
}

export interface CollectLimits {
  maxBytesPerPartition: number
  maxBytes: number
}

interface PendingWait {
  promise: Promise<unknown>
  settled: boolean
}

export class PartitionFetcher {
  private rotation = 0
  private readonly waits = new Map<string, PendingWait>()

  constructor(
    private readonly log: Log,
    /** Called when a position is outside [logStart, highWatermark]; returns the new offset. */
    private readonly resetPosition: (position: FetchPosition) => number,
  ) {}

  async collect(positions: FetchPosition[], limits: CollectLimits): Promise<ConsumerBatch[]> {
    const batches: ConsumerBatch[] = []
    if (positions.length === 0) return batches
    let totalBytes = 0
    const start = this.rotation++ % positions.length
    for (let i = 0; i < positions.length && totalBytes < limits.maxBytes; i++) {
      const position = positions[(start + i) % positions.length]!
      // A partition gets what is left of the overall budget, at most its own limit; the log
      // still returns at least one whole batch, so a large record cannot stall the consumer.
      const budgetBytes = Math.max(1,
        Math.min(limits.maxBytesPerPartition, limits.maxBytes - totalBytes))
      const batch = await this.readOne(position, budgetBytes)
      if (batch === null) continue
      batches.push(batch)
      totalBytes += batch.sizeBytes
    }
    return batches
  }

  /** Resolves when any partition has data past its position, after maxWaitMs, or on wake. */
  async waitForAny(positions: FetchPosition[], maxWaitMs: number, wake: Promise<void>)
    : Promise<void> {
    const racers: Promise<unknown>[] = [wake]
    for (const position of positions) {
      const key = `${position.topic}\u0000${position.partition}`
      let pending = this.waits.get(key)
      if (pending === undefined || pending.settled) {
        const entry: PendingWait = { promise: Promise.resolve(), settled: false }
        entry.promise = this.log
          .waitForData(position.topic, position.partition, position.offset, maxWaitMs)
          .catch(() => undefined)
          .finally(() => {
            entry.settled = true
            if (this.waits.get(key) === entry) this.waits.delete(key)
          })
        this.waits.set(key, entry)
        pending = entry
      }
      racers.push(pending.promise)
    }
    if (positions.length === 0) {
      racers.push(new Promise<void>((resolve) => setTimeout(resolve, maxWaitMs).unref()))
    }
    await Promise.race(racers)
  }

  private async readOne(position: FetchPosition, maxBytes: number): Promise<ConsumerBatch | null> {
    const { topic, partition } = position
    const { logStartOffset, highWatermark } = this.log.offsets(topic, partition)
    if (position.offset < logStartOffset || position.offset > highWatermark) {
      position.offset = this.resetPosition(position)
      return null
    }
    if (position.offset === highWatermark) return null
    try {
      const read = await this.log.read(topic, partition, position.offset, { maxBytes })
      if (read.records.length === 0) return null
      return batchFromRecords(topic, partition, read.highWatermark, read.records)
    } catch (error) {
      // Retention removed the data between the check and the read.
      if (isSluiceError(error, 'SLUICE_ERR_OFFSET_OUT_OF_RANGE')) {
        position.offset = this.resetPosition(position)
        return null
      }
      throw error
    }
  }
}
