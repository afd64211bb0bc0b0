/**
 * The sink contract and the batch loop every sink here shares, as Flume's sinks do it
 * (reference §3.4): one channel transaction per call to process(); take up to batchSize events,
 * stopping at the first null; none ⇒ BatchEmptyCount, commit, BACKOFF; otherwise deliver them,
 * commit, READY. Any delivery failure rolls the transaction back (the events return to the head
 * of the channel, in order) and surfaces as SLUICE_ERR_EVENT_DELIVERY for the runner's back-off.
 *
 * Invariant: an event is commit-taken only after deliver() returned, so a crash in between means
 * a redelivery (a duplicate), never a loss.
 */
import { SluiceError } from '../../errors.js'
import type { FlowEvent } from '../event.js'
import { sinkCounter, type SinkCounter } from '../metrics/counters.js'
import type { Channel } from '../transaction.js'

export type Status = 'READY' | 'BACKOFF'

export interface Sink {
  readonly name: string
  readonly type: string
  readonly channel: Channel
  readonly counter: SinkCounter
  readonly batchSize: number
  start(): Promise<void>
  stop(): Promise<void>
  process(): Promise<Status>
}

export function deliveryError(message: string, cause?: unknown): SluiceError {
  return new SluiceError('SLUICE_ERR_EVENT_DELIVERY', message, { cause })
}

export abstract class BatchSink implements Sink {
  abstract readonly type: string
  readonly counter: SinkCounter
  /** Instrumentation: called after a batch is written, before its take commits (the bench). */
  onDelivered: ((events: FlowEvent[]) => void) | null = null

  constructor(readonly name: string, readonly channel: Channel, readonly batchSize: number) {
    this.counter = sinkCounter(name)
  }

  /** Writes the batch to the destination; throws if it did not get there. */
  protected abstract deliver(events: FlowEvent[]): Promise<void>

  async start(): Promise<void> {
    this.counter.start()
  }

  async stop(): Promise<void> {
    this.counter.stop()
  }

  async process(): Promise<Status> {
    const tx = this.channel.getTransaction()
    tx.begin()
    let reading = true
    try {
      const events: FlowEvent[] = []
      while (events.length < this.batchSize) {
        const event = await tx.take()
        if (event === null) break
        events.push(event)
      }
      reading = false
      this.countBatch(events.length)
      if (events.length > 0) {
        this.counter.add('EventDrainAttemptCount', events.length)
        await this.deliver(events)
        this.onDelivered?.(events)
      }
      await tx.commit()
      this.counter.add('EventDrainSuccessCount', events.length)
      return events.length === 0 ? 'BACKOFF' : 'READY'
    } catch (error) {
      await tx.rollback()
      this.counter.add(reading ? 'ChannelReadFail' : 'EventWriteFail')
      throw deliveryError(`sink ${this.name} failed to deliver: ${(error as Error).message}`, error)
    } finally {
      tx.close()
    }
  }

  private countBatch(taken: number): void {
    if (taken === 0) this.counter.add('BatchEmptyCount')
    else if (taken < this.batchSize) this.counter.add('BatchUnderflowCount')
    else this.counter.add('BatchCompleteCount')
  }
}
