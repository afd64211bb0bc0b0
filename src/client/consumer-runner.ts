/**
 * Push consumption (`consumer.run`): a loop that joins when a rebalance is due, takes whatever
 * its partitions hold, hands it to `eachMessage` / `eachBatch`, and otherwise sleeps on the Log's
 * wait until an append lands — delivery starts as soon as the append is acknowledged, with no
 * timer in between. The next delivery waits for the handler (backpressure): one message at a time
 * per partition, at most `partitionsConsumedConcurrently` partitions at once.
 *
 * Handler failures follow kafkajs: resolved offsets are committed, the failed message is
 * delivered again after a backoff, and after `retry.retries` failures the consumer crashes
 * (CRASH event) and restarts unless the error is not retriable or `restartOnFailure` says no.
 */
import { KafkaJSError, KafkaJSNonRetriableError, toKafkaJSError } from './errors.js'
import type { ConsumerBatch } from './consumer-batch.js'
import { isRebalancing, type ConsumerEngine } from './consumer-engine.js'
import { CONSUMER_EVENTS, type Instrumentation } from './instrumentation.js'
import type { Logger } from './logger.js'
import type { ConsumerRunConfig, EachBatchPayload, Offsets, RetryOptions } from './types.js'

interface RunSettings {
  autoCommit: boolean
  autoCommitIntervalMs: number | null
  autoCommitThreshold: number | null
  eachBatchAutoResolve: boolean
  concurrency: number
}

export class ConsumerRunner {
  running = false
  private loopDone: Promise<void> = Promise.resolve()
  private readonly settings: RunSettings
  private failures = 0
  private lastCommitMs = Date.now()
  private resolvedSinceCommit = 0

  constructor(
    private readonly engine: ConsumerEngine,
    private readonly handlers: ConsumerRunConfig,
    private readonly retry: RetryOptions,
    private readonly instrumentation: Instrumentation<typeof CONSUMER_EVENTS>,
    private readonly logger: Logger,
    private readonly onFatal: () => Promise<void>,
  ) {
    const concurrency = handlers.partitionsConsumedConcurrently ?? 1
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new KafkaJSNonRetriableError(
        `partitionsConsumedConcurrently must be a positive integer, got ${String(concurrency)}`)
    }
    this.settings = {
      autoCommit: handlers.autoCommit ?? true,
      autoCommitIntervalMs: handlers.autoCommitInterval ?? null,
      autoCommitThreshold: handlers.autoCommitThreshold ?? null,
      eachBatchAutoResolve: handlers.eachBatchAutoResolve ?? true,
      concurrency,
    }
  }

  /** Joins the group, then runs the loop in the background (kafkajs's run() resolves here). */
  async start(): Promise<void> {
    this.running = true
    await this.engine.ensureJoined(this.settings.autoCommit)
    this.loopDone = this.loop()
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.engine.wake()
    await this.loopDone
    if (this.settings.autoCommit) await this.engine.commitQuietly().catch(() => undefined)
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.turn()
      } catch (error) {
        await this.handleFailure(toKafkaJSError(error))
      }
    }
  }

  private async turn(): Promise<void> {
    const engine = this.engine
    if (engine.commitFailure !== null) {
      const failure = engine.commitFailure
      engine.commitFailure = null
      throw failure
    }
    await engine.ensureJoined(this.settings.autoCommit)
    await engine.applySeeks(this.settings.autoCommit)
    const active = engine.assignment.active()
    this.instrumentation.emit(CONSUMER_EVENTS.FETCH_START, { nodeId: 0 })
    const startedMs = Date.now()
    const batches = await engine.fetcher.collect(active, engine.config)
    this.instrumentation.emit(CONSUMER_EVENTS.FETCH, {
      numberOfBatches: batches.length, duration: Date.now() - startedMs, nodeId: 0,
    })
    if (batches.length === 0) {
      await engine.heartbeatIfDue()
      if (!this.running || engine.session.rebalanceNeeded) return
      await engine.waitForData(engine.assignment.active(), engine.config.maxWaitTimeMs)
      return
    }
    await this.processAll(batches)
    this.failures = 0
    await engine.heartbeatIfDue()
  }

  private async processAll(batches: ConsumerBatch[]): Promise<void> {
    let next = 0
    const lane = async () => {
      while (next < batches.length && this.running) await this.processBatch(batches[next++]!)
    }
    const lanes = Math.min(this.settings.concurrency, batches.length)
    const results = await Promise.allSettled(Array.from({ length: lanes }, lane))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason
  }

  private async processBatch(batch: ConsumerBatch): Promise<void> {
    if (batch.isEmpty() || this.isStale(batch.topic, batch.partition)) return
    const startedMs = Date.now()
    const { START_BATCH_PROCESS, END_BATCH_PROCESS } = CONSUMER_EVENTS
    const observed = this.instrumentation.observed(START_BATCH_PROCESS)
      || this.instrumentation.observed(END_BATCH_PROCESS)
    const event = observed ? batchEvent(batch) : null
    if (event !== null) this.instrumentation.emit(START_BATCH_PROCESS, event)
    try {
      if (this.handlers.eachMessage !== undefined) await this.eachMessage(batch)
      else await this.eachBatch(batch)
    } catch (error) {
      if (this.settings.autoCommit) await this.engine.commitQuietly().catch(() => undefined)
      throw error
    }
    if (event !== null) {
      this.instrumentation.emit(END_BATCH_PROCESS, { ...event, duration: Date.now() - startedMs })
    }
    if (this.settings.autoCommit) this.commitSoon(true)
  }

  private async eachMessage(batch: ConsumerBatch): Promise<void> {
    const { topic, partition } = batch
    const assignment = this.engine.assignment
    for (const message of batch.messages) {
      if (this.isStale(topic, partition)) break
      await this.handlers.eachMessage!({
        topic, partition, message,
        heartbeat: () => this.engine.heartbeatNow(),
        pause: () => this.pauseOne(topic, partition),
      })
      assignment.resolve(topic, partition, Number(message.offset))
      this.resolvedSinceCommit++
      if (this.settings.autoCommit) this.commitSoon(false)
      if (assignment.isPaused(topic, partition)) break
    }
  }

  private async eachBatch(batch: ConsumerBatch): Promise<void> {
    const { topic, partition } = batch
    const engine = this.engine
    const payload: EachBatchPayload = {
      batch,
      resolveOffset: (offset) => {
        engine.assignment.resolve(topic, partition, Number(offset))
        this.resolvedSinceCommit++
      },
      heartbeat: () => engine.heartbeatNow(),
      pause: () => this.pauseOne(topic, partition),
      commitOffsetsIfNecessary: async (offsets?: Offsets) => {
        if (offsets !== undefined) {
          await engine.session.commit(offsets.topics.flatMap((t) => t.partitions.map((p) => ({
            topic: t.topic, partition: p.partition, offset: Number(p.offset), metadata: null,
          }))))
        } else if (this.settings.autoCommit && this.commitDue()) await engine.commitNow()
      },
      uncommittedOffsets: () => ({ topics: groupByTopic(engine.assignment.uncommitted()) }),
      isRunning: () => this.running,
      isStale: () => this.isStale(topic, partition),
    }
    await this.handlers.eachBatch!(payload)
    if (this.settings.eachBatchAutoResolve) {
      engine.assignment.resolve(topic, partition, Number(batch.lastOffset()))
    }
  }

  private commitSoon(afterBatch: boolean): void {
    if (!afterBatch && !this.commitDue()) return
    this.lastCommitMs = Date.now()
    this.resolvedSinceCommit = 0
    this.engine.scheduleCommit()
  }

  private commitDue(): boolean {
    const { autoCommitIntervalMs, autoCommitThreshold } = this.settings
    return (autoCommitIntervalMs !== null && Date.now() >= this.lastCommitMs + autoCommitIntervalMs)
      || (autoCommitThreshold !== null && this.resolvedSinceCommit >= autoCommitThreshold)
  }

  private isStale(topic: string, partition: number): boolean {
    const assignment = this.engine.assignment
    return !this.running || this.engine.session.rebalanceNeeded
      || !assignment.owns(topic, partition) || assignment.hasSeek(topic, partition)
  }

  private pauseOne(topic: string, partition: number): () => void {
    this.engine.assignment.pause([{ topic, partitions: [partition] }])
    return () => {
      this.engine.assignment.resume([{ topic, partitions: [partition] }])
      this.engine.wake()
    }
  }

  private async handleFailure(error: unknown): Promise<void> {
    if (isRebalancing(error)) {
      this.engine.session.rebalanceNeeded = true
      return
    }
    this.failures++
    const retries = this.retry.retries ?? 5
    const retriable = !(error instanceof KafkaJSError) || error.retriable
    if (retriable && this.failures <= retries) {
      this.logger.warn('consumer handler failed, retrying', { error: String(error) })
      await this.backoff()
      return
    }
    const restart = retriable && await this.shouldRestart(error)
    this.instrumentation.emit(CONSUMER_EVENTS.CRASH,
      { error, groupId: this.engine.config.groupId, restart })
    if (!restart) {
      this.running = false
      void this.onFatal()
      return
    }
    this.failures = 0
    this.engine.session.leave()
    await this.backoff()
  }

  private async shouldRestart(error: unknown): Promise<boolean> {
    const decide = this.retry.restartOnFailure
    if (decide === undefined) return true
    return decide(error as Error).catch(() => true)
  }

  /** kafkajs's backoff: initialRetryTime × multiplier^(n−1), capped; a stop cuts it short. */
  private async backoff(): Promise<void> {
    const initialMs = this.retry.initialRetryTime ?? 300
    const delayMs = Math.min(this.retry.maxRetryTime ?? 30_000,
      initialMs * (this.retry.multiplier ?? 2) ** Math.max(0, this.failures - 1))
    await this.engine.waitForData([], delayMs)
  }
}

function batchEvent(batch: ConsumerBatch) {
  return {
    topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark,
    offsetLag: batch.offsetLag(), offsetLagLow: batch.offsetLagLow(),
    batchSize: batch.messages.length, firstOffset: batch.firstOffset(),
    lastOffset: batch.lastOffset(),
  }
}

function groupByTopic(entries: { topic: string; partition: number; offset: number }[]) {
  const byTopic = new Map<string, { partition: number; offset: string }[]>()
  for (const e of entries) {
    byTopic.set(e.topic, [...(byTopic.get(e.topic) ?? []), { partition: e.partition,
      offset: String(e.offset) }])
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }))
}
