/**
 * Flume's seq source (SequenceGeneratorSource): a pollable source whose bodies are the decimal
 * counters "0", "1", … up to totalEvents. A refused batch is retried with the same numbers, so
 * downstream can count duplicates and prove nothing was lost.
 */
import type { ChannelProcessor } from '../channel-processor.js'
import { sourceCounter } from '../metrics/counters.js'
import type { Status } from '../sinks/sink.js'
import { deliverBatch } from './batch-delivery.js'
import type { PollableSource } from './source.js'

export interface SeqOptions {
  batchSize: number
  totalEvents: number
  backoffSleepIncrementMs: number
  maxBackoffSleepMs: number
}

export class SeqSource implements PollableSource {
  readonly kind = 'pollable'
  readonly type = 'seq'
  readonly counter
  private next = 0

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: SeqOptions) {
    this.counter = sourceCounter(name)
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  get backoffSleepIncrementMs(): number {
    return this.options.backoffSleepIncrementMs
  }

  get maxBackoffSleepMs(): number {
    return this.options.maxBackoffSleepMs
  }

  async process(): Promise<Status> {
    const count = Math.min(this.options.batchSize, this.options.totalEvents - this.next)
    if (count <= 0) return 'BACKOFF'
    const events = Array.from({ length: count }, (_, i) => ({
      headers: {}, body: Buffer.from(String(this.next + i)),
    }))
    if (await deliverBatch(this, events) !== null) return 'BACKOFF'
    this.next += count
    return 'READY'
  }
}
