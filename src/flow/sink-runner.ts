/**
 * Flume's SinkRunner.PollingRunner (reference §3.4): one loop per sink or sink group.
 *
 *   READY    loop again at once (after yielding to the event loop), back-off counter reset;
 *   BACKOFF  sleep min(consecutive × backoffSleepIncrementMs, maxBackoffSleepMs) — 1 s steps to
 *            5 s, Flume's constants;
 *   error    log it, sleep errorSleepMs (5 s).
 *
 * One change from Flume, for push latency: a BACKOFF sleep ends early when one of the group's
 * channels reports new data, so an idle agent still does not spin, but the first event after an
 * idle spell does not wait out the back-off. stop() lets the current process() finish (its
 * transaction commits or rolls back) before it resolves.
 */
import type { FlowLogger } from './event.js'
import { Signal, sleepUnless, type Wakeable } from './signal.js'
import type { SinkProcessor } from './sink-processors.js'

export interface RunnerTimings {
  backoffSleepIncrementMs: number
  maxBackoffSleepMs: number
  errorSleepMs: number
}

export const FLUME_RUNNER_TIMINGS: RunnerTimings = {
  backoffSleepIncrementMs: 1000, maxBackoffSleepMs: 5000, errorSleepMs: 5000,
}

export class SinkRunner {
  private readonly stopping = new Signal()
  private stopped = true
  private loop: Promise<void> | null = null
  /** Consecutive BACKOFF results, as Flume counts them. */
  consecutiveBackoffs = 0

  constructor(readonly name: string, readonly processor: SinkProcessor,
    private readonly logger: FlowLogger,
    private readonly timings: RunnerTimings = FLUME_RUNNER_TIMINGS) {}

  async start(): Promise<void> {
    for (const sink of this.processor.sinks) await sink.start()
    this.stopped = false
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.stopping.notify()
    await this.loop
    this.loop = null
    for (const sink of this.processor.sinks) await sink.stop()
  }

  private dataSignals(): Wakeable[] {
    return [...new Set(this.processor.sinks.map((sink) => sink.channel.dataAvailable))]
  }

  private async run(): Promise<void> {
    const wakeOnData = this.dataSignals()
    while (!this.stopped) {
      try {
        const status = await this.processor.process()
        if (status === 'READY') {
          this.consecutiveBackoffs = 0
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        this.consecutiveBackoffs++
        const sleepMs = Math.min(this.consecutiveBackoffs * this.timings.backoffSleepIncrementMs,
          this.timings.maxBackoffSleepMs)
        await sleepUnless(sleepMs, this.stopping, ...wakeOnData)
      } catch (error) {
        if (this.stopped) break
        this.logger.error(`Unable to deliver event from ${this.name}: ` +
          `${(error as Error).message}`)
        await sleepUnless(this.timings.errorSleepMs, this.stopping)
      }
    }
  }
}
