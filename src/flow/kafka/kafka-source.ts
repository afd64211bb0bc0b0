/**
 * Flume's Kafka source (org.apache.flume.source.kafka.KafkaSource, reference §2.1): a group
 * consumer whose records become events, handed to the channel processor in batches of at most
 * batchSize, with the offsets committed only after the channel committed them.
 *
 *   fetch ─▶ ≤ batchSize records ─▶ processEventBatch (the channels commit)
 *                                      │ ok                     │ refused (full, error)
 *                                      ▼                        ▼
 *                      resolve, commit offset last+1    back off (backoffSleepIncrement steps
 *                                                       to maxBackoffSleep), put them again
 *
 * Invariants:
 *   - the group's committed offset never passes a record that is not committed in the channel
 *     (a crash between the two redelivers the batch: duplicates, never loss);
 *   - a refused batch is retried as it was, never skipped; if the source stops or loses the
 *     partition meanwhile, the batch stays unresolved and uncommitted, so whoever reads the
 *     partition next starts at it;
 *   - one batch is in flight at a time (the client waits for the handler), so a full channel
 *     stops fetching: backpressure reaches the log, which keeps the records.
 *
 * Headers, as Flume 1.11 sets them: an AvroFlumeEvent's own headers (useFlumeEventFormat), then
 * `timestamp` (the record's) if absent, `header.<flume> = <kafka>` copies, `topicHeader`
 * (setTopicHeader) if absent, `partition` and `offset` if absent, and `key` whenever the record
 * has a key. A value that useFlumeEventFormat cannot decode is counted (EventReadFail), logged
 * with its topic, partition and offset, and passed over; it stays in the log.
 *
 * A batch is what one fetch returned for one partition, cut to batchSize; batchDurationMillis
 * bounds how long a fetch waits for records (the client's maxWaitTimeInMs). A topic pattern is
 * matched, as Kafka matches it, against whole topic names, at start and then every
 * metadata.max.age.ms (Kafka's default 5 minutes): a new matching topic is picked up then.
 */
import type * as Kafka from 'kafkajs'
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { sourceCounter } from '../metrics/counters.js'
import { Signal, sleepUnless } from '../signal.js'
import type { EventDrivenSource } from '../sources/source.js'
import type { ConsumerSettings } from './client-properties.js'
import { decodeFlumeEvent } from './flume-event-format.js'
import {
  openKafkaClients, type KafkaClients, type KafkaConsumerClient,
} from './kafka-clients.js'

export type TopicSubscription = { topics: string[] } | { pattern: RegExp }

export interface KafkaSourceOptions {
  bootstrapServers: string
  subscription: TopicSubscription
  groupId: string
  batchSize: number
  batchDurationMs: number
  backoffSleepIncrementMs: number
  maxBackoffSleepMs: number
  useFlumeEventFormat: boolean
  setTopicHeader: boolean
  topicHeader: string
  /** `header.<flumeHeader> = <kafkaHeader>`: flume name → Kafka header name. */
  headerMap: Map<string, string>
  /** How often a pattern is matched again (Kafka's metadata.max.age.ms). */
  patternRefreshMs: number
  consumer: ConsumerSettings
}

export class KafkaSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'kafka'
  readonly counter
  /** The topics the running consumer subscribed to (the pattern's matches, or the list). */
  subscribedTopics: string[] = []
  private clients: KafkaClients | null = null
  private consumer: KafkaConsumerClient | null = null
  private supervisor: Promise<void> = Promise.resolve()
  private stopping = false
  /** Set when the client gave up on the consumer; the supervisor replaces it. */
  private crashed = false
  /** Wakes the supervisor and any back-off: stop, or a crash. */
  private readonly wake = new Signal()

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: KafkaSourceOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  async start(): Promise<void> {
    this.stopping = false
    const { bootstrapServers, consumer } = this.options
    this.clients = openKafkaClients(bootstrapServers, { clientId: consumer.clientId ??
      `flume-${this.name}`, requestTimeoutMs: consumer.requestTimeoutMs }, this.logger)
    // The broker may be down when the agent starts: keep trying in the background, as Flume's
    // consumer does, rather than refuse to start the agent.
    this.supervisor = this.supervise(this.clients)
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.wake.notify()
    await this.supervisor
    await this.discardConsumer()
    await this.clients?.release()
    this.clients = null
  }

  /**
   * Keeps one consumer running until stop: (re)connects with back-off after a failure or a
   * crash the client gave up on, and, for a pattern, re-matches the topics every
   * metadata.max.age.ms (Kafka's 5 minutes) and resubscribes when the set changed.
   */
  private async supervise(clients: KafkaClients): Promise<void> {
    for (let failures = 0; !this.stopping;) {
      if (this.consumer === null) {
        try {
          if (!await this.runConsumer(clients)) {
            await this.pause(this.options.patternRefreshMs)
            continue
          }
          failures = 0
        } catch (error) {
          await this.discardConsumer()
          if (this.stopping) return
          failures++
          const waitMs = Math.min(failures * this.options.backoffSleepIncrementMs,
            this.options.maxBackoffSleepMs)
          this.logger.warn(`source ${this.name}: cannot consume from ${clients.address}: ` +
            `${(error as Error).message}; retrying in ${waitMs} ms`)
          await this.pause(waitMs)
          continue
        }
      }
      await this.pause(this.options.patternRefreshMs)
      if (this.stopping) return
      if (this.crashed || await this.patternMatchesChanged(clients)) {
        this.crashed = false
        await this.discardConsumer()
      }
    }
  }

  /** Sleeps, cut short by stop or a crash; not at all if one is already pending (a Signal
   * does not remember a notify that came before the wait). */
  private async pause(ms: number): Promise<void> {
    if (this.stopping || this.crashed) return
    await sleepUnless(ms, this.wake)
  }

  /** Starts a consumer on the subscription; false when a pattern matches no topic yet. */
  private async runConsumer(clients: KafkaClients): Promise<boolean> {
    const settings = this.options.consumer
    const topics = await this.resolveTopics(clients)
    if (topics.length === 0) {
      this.logger.info(`source ${this.name}: no topic matches kafka.topics.regex ` +
        `${(this.options.subscription as { pattern: RegExp }).pattern.source} yet`)
      return false
    }
    const consumer = clients.consumer({
      groupId: this.options.groupId,
      maxWaitTimeInMs: settings.maxWaitTimeMs ?? this.options.batchDurationMs,
      ...defined({ sessionTimeout: settings.sessionTimeoutMs,
        heartbeatInterval: settings.heartbeatIntervalMs,
        rebalanceTimeout: settings.rebalanceTimeoutMs, minBytes: settings.minBytes,
        maxBytes: settings.maxBytes, maxBytesPerPartition: settings.maxBytesPerPartition }),
    })
    this.consumer = consumer
    consumer.on(consumer.events.CRASH, (event) => this.onCrash(consumer, event))
    await consumer.connect()
    await consumer.subscribe({ topics, fromBeginning: settings.fromBeginning })
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false,
      eachBatch: (payload) => this.onBatch(consumer, payload) })
    this.subscribedTopics = topics
    this.logger.info(`source ${this.name}: consuming ${topics.join(', ')} from ` +
      `${clients.address} as group ${this.options.groupId}`)
    return true
  }

  /** A consumer the client gave up on (a non-retriable error) is replaced by the supervisor. */
  private onCrash(consumer: KafkaConsumerClient, event: Kafka.ConsumerCrashEvent): void {
    if (event.payload.restart || this.stopping || this.consumer !== consumer) return
    this.logger.error(`source ${this.name}: consumer stopped: ${String(event.payload.error)}; ` +
      'reconnecting')
    this.crashed = true
    this.wake.notify()
  }

  private async patternMatchesChanged(clients: KafkaClients): Promise<boolean> {
    if ('topics' in this.options.subscription) return false
    try {
      const topics = await this.resolveTopics(clients)
      if (topics.join('\u0000') === this.subscribedTopics.join('\u0000')) return false
      this.logger.info(`source ${this.name}: kafka.topics.regex now matches ` +
        `${topics.join(', ') || 'nothing'}; resubscribing`)
      return true
    } catch (error) {
      this.logger.warn(`source ${this.name}: cannot list topics: ${(error as Error).message}`)
      return false
    }
  }

  private async resolveTopics(clients: KafkaClients): Promise<string[]> {
    const { subscription } = this.options
    if ('topics' in subscription) return subscription.topics
    const admin = clients.admin()
    await admin.connect()
    let names: string[]
    try {
      names = await admin.listTopics()
    } finally {
      await admin.disconnect()
    }
    // Kafka's pattern subscription leaves internal topics (__consumer_offsets …) out.
    return names.filter((t) => !t.startsWith('__') && subscription.pattern.test(t)).sort()
  }

  private async discardConsumer(): Promise<void> {
    const consumer = this.consumer
    this.consumer = null
    await consumer?.disconnect().catch((error: unknown) =>
      this.logger.warn(`source ${this.name}: disconnect: ${(error as Error).message}`))
  }

  private async onBatch(consumer: KafkaConsumerClient, payload: Kafka.EachBatchPayload)
    : Promise<void> {
    const { batch } = payload
    for (let start = 0; start < batch.messages.length; start += this.options.batchSize) {
      if (this.abandoned(payload)) return
      const records = batch.messages.slice(start, start + this.options.batchSize)
      const events = this.toEvents(batch.topic, batch.partition, records)
      if (events.length > 0 && !await this.putUntilAccepted(events, payload)) return
      const last = records[records.length - 1]!.offset
      payload.resolveOffset(last)
      await this.commit(consumer, batch.topic, batch.partition, last)
    }
  }

  private abandoned(payload: Kafka.EachBatchPayload): boolean {
    return this.stopping || !payload.isRunning() || payload.isStale()
  }

  /** Puts the events until the channels take them; false if the batch had to be abandoned. */
  private async putUntilAccepted(events: FlowEvent[], payload: Kafka.EachBatchPayload)
    : Promise<boolean> {
    this.counter.add('EventReceivedCount', events.length)
    this.counter.add('AppendBatchReceivedCount')
    for (let refusals = 1; ; refusals++) {
      try {
        await this.processor.processEventBatch(events)
        this.counter.add('EventAcceptedCount', events.length)
        this.counter.add('AppendBatchAcceptedCount')
        return true
      } catch (error) {
        this.counter.add('ChannelWriteFail')
        if (refusals === 1) {
          this.logger.warn(`source ${this.name}: channel refused ${events.length} events ` +
            `(${(error as Error).message}); retrying them, offsets not committed`)
        }
      }
      const waitMs = Math.min(refusals * this.options.backoffSleepIncrementMs,
        this.options.maxBackoffSleepMs)
      if (this.stopping) return false
      await sleepUnless(waitMs, this.wake)
      if (this.abandoned(payload)) return false
      try {
        await payload.heartbeat()
      } catch {
        // A rebalance is under way: the partition may go to another member, which will read
        // these records from the committed offset.
        return false
      }
    }
  }

  private async commit(consumer: KafkaConsumerClient, topic: string, partition: number,
    lastOffset: string): Promise<void> {
    const offset = String(BigInt(lastOffset) + 1n)
    try {
      await consumer.commitOffsets([{ topic, partition, offset }])
    } catch (error) {
      // The events are in the channel: a later commit covers them, or a restart redelivers
      // them (duplicates, never loss).
      this.counter.add('GenericProcessingFail')
      this.logger.warn(`source ${this.name}: committing ${topic}-${partition} offset ${offset} ` +
        `failed: ${(error as Error).message}`)
    }
  }

  private toEvents(topic: string, partition: number, records: Kafka.KafkaMessage[]): FlowEvent[] {
    const events: FlowEvent[] = []
    for (const record of records) {
      try {
        events.push(this.toEvent(topic, partition, record))
      } catch (error) {
        this.counter.add('EventReadFail')
        this.logger.error(`source ${this.name}: record ${topic}-${partition}@${record.offset} ` +
          `passed over: ${(error as Error).message}`)
      }
    }
    return events
  }

  private toEvent(topic: string, partition: number, record: Kafka.KafkaMessage): FlowEvent {
    const value = record.value ?? Buffer.alloc(0)
    const event: FlowEvent = this.options.useFlumeEventFormat
      ? decodeFlumeEvent(value) : { headers: {}, body: Buffer.from(value) }
    const headers = event.headers
    const setIfAbsent = (name: string, text: string): void => {
      if (!Object.hasOwn(headers, name)) headers[name] = text
    }
    setIfAbsent('timestamp', record.timestamp)
    for (const [flumeName, kafkaName] of this.options.headerMap) {
      const found = record.headers?.[kafkaName]
      const last = Array.isArray(found) ? found[found.length - 1] : found
      if (last !== undefined) headers[flumeName] = Buffer.from(last).toString('utf8')
    }
    if (this.options.setTopicHeader) setIfAbsent(this.options.topicHeader, topic)
    setIfAbsent('partition', String(partition))
    setIfAbsent('offset', record.offset)
    if (record.key !== null && record.key !== undefined) headers.key = record.key.toString('utf8')
    return event
  }
}

/** The entries whose value is set, so a client's own defaults apply to the rest. */
function defined<T extends Record<string, number | undefined>>(values: T)
  : Partial<Record<keyof T, number>> {
  const out: Partial<Record<keyof T, number>> = {}
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) out[key as keyof T] = value
  }
  return out
}
