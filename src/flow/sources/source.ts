/**
 * Source contracts and Flume's two source runners (reference §3.4):
 *
 *   event-driven  the source pushes on its own (netcat, http, exec): the runner starts and stops
 *                 it, nothing more.
 *   pollable      the runner calls process() in a loop (seq): READY loops at once, BACKOFF
 *                 sleeps min(n × backoffSleepIncrement, maxBackoffSleep), an error sleeps
 *                 maxBackoffSleep. stop() waits for the current process() call.
 */
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowLogger } from '../event.js'
import type { SourceCounter } from '../metrics/counters.js'
import { Signal, sleepUnless } from '../signal.js'
import type { Status } from '../sinks/sink.js'

export interface Source {
  readonly name: string
  readonly type: string
  readonly counter: SourceCounter
  readonly processor: ChannelProcessor
  /** Largest batch it hands the channel processor (checked against transactionCapacity). */
  readonly batchSize: number
}

export interface EventDrivenSource extends Source {
  readonly kind: 'event-driven'
  start(): Promise<void>
  /** Stops intake; in-flight batches finish (commit or fail) before it resolves. */
  stop(): Promise<void>
}

export interface PollableSource extends Source {
  readonly kind: 'pollable'
  readonly backoffSleepIncrementMs: number
  readonly maxBackoffSleepMs: number
  process(): Promise<Status>
}

export type AnySource = EventDrivenSource | PollableSource

export interface SourceRunner {
  readonly source: AnySource
  start(): Promise<void>
  stop(): Promise<void>
}

export class EventDrivenSourceRunner implements SourceRunner {
  constructor(readonly source: EventDrivenSource) {}

  async start(): Promise<void> {
    this.source.counter.start()
    await this.source.start()
  }

  async stop(): Promise<void> {
    await this.source.stop()
    this.source.counter.stop()
  }
}

export class PollableSourceRunner implements SourceRunner {
  private readonly stopping = new Signal()
  private stopped = true
  private loop: Promise<void> | null = null

  constructor(readonly source: PollableSource, private readonly logger: FlowLogger) {}

  async start(): Promise<void> {
    this.source.counter.start()
    this.stopped = false
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.stopping.notify()
    await this.loop
    this.source.counter.stop()
  }

  private async run(): Promise<void> {
    let backoffs = 0
    while (!this.stopped) {
      try {
        if (await this.source.process() === 'READY') {
          backoffs = 0
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        backoffs++
        await sleepUnless(Math.min(backoffs * this.source.backoffSleepIncrementMs,
          this.source.maxBackoffSleepMs), this.stopping)
      } catch (error) {
        if (this.stopped) break
        this.logger.warn(`source ${this.source.name}: ${(error as Error).message}`)
        await sleepUnless(this.source.maxBackoffSleepMs, this.stopping)
      }
    }
  }
}

export function runnerFor(source: AnySource, logger: FlowLogger): SourceRunner {
  return source.kind === 'pollable'
    ? new PollableSourceRunner(source, logger) : new EventDrivenSourceRunner(source)
}
