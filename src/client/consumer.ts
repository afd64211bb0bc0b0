/**
 * The kafkajs-shaped consumer. Push is `run({ eachMessage | eachBatch })` (ConsumerRunner);
 * pull is `fetch({ maxWaitMs, minBytes, maxBytes })`, Kafka's poll: it joins the group if needed,
 * returns the batches available from the current positions — waiting on the Log up to maxWaitMs
 * for minBytes — and moves the positions past them; commits are then the caller's
 * (`commitOffsets`). One consumer uses one style at a time; several consumers of either style can
 * read the same topic side by side.
 *
 * Argument checks and error classes follow kafkajs 2.2.4's src/consumer/index.js.
 */
import type { ConsumerBatch } from './consumer-batch.js'
import { ConsumerEngine } from './consumer-engine.js'
import { ConsumerRunner } from './consumer-runner.js'
import { KafkaJSError, KafkaJSNonRetriableError, toKafkaJSError } from './errors.js'
import { CONSUMER_EVENTS, Instrumentation, type InstrumentationEvent } from './instrumentation.js'
import type { Logger } from './logger.js'
import { OFFSETS_TOPIC } from '../groups/offset-store.js'
import type { Runtime } from './runtime.js'
import type {
  Batch, ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopic, ConsumerSubscribeTopics,
  FetchOptions, TopicPartitionOffset, TopicPartitionOffsetAndMetadata, TopicPartitions,
} from './types.js'

const NOT_INITIALIZED = 'Consumer group was not initialized, consumer#run must be called first'
const EARLIEST_OFFSET = -2

export class SluiceConsumer {
  readonly events = CONSUMER_EVENTS
  private readonly instrumentation: Instrumentation<typeof CONSUMER_EVENTS>
  private readonly config: Required<Omit<ConsumerConfig, 'retry' | 'allowAutoTopicCreation'>>
  private readonly subscription = new Map<string, { fromBeginning: boolean }>()
  private runtime: Runtime | null = null
  private engine: ConsumerEngine | null = null
  private runner: ConsumerRunner | null = null
  private connected = false

  constructor(
    private readonly openRuntime: () => Promise<Runtime>,
    private readonly clientId: string,
    private readonly rawConfig: ConsumerConfig,
    private readonly log: Logger,
    private readonly onDisconnect: (consumer: SluiceConsumer) => void,
  ) {
    if (typeof rawConfig?.groupId !== 'string' || rawConfig.groupId.length === 0) {
      throw new KafkaJSNonRetriableError('Consumer groupId must be a non-empty string.')
    }
    this.config = {
      groupId: rawConfig.groupId,
      partitionAssigners: rawConfig.partitionAssigners ?? ['RoundRobinAssigner'],
      sessionTimeout: rawConfig.sessionTimeout ?? 30_000,
      rebalanceTimeout: rawConfig.rebalanceTimeout ?? 60_000,
      heartbeatInterval: rawConfig.heartbeatInterval ?? 3_000,
      maxBytesPerPartition: rawConfig.maxBytesPerPartition ?? 1024 * 1024,
      minBytes: rawConfig.minBytes ?? 1,
      maxBytes: rawConfig.maxBytes ?? 10 * 1024 * 1024,
      maxWaitTimeInMs: rawConfig.maxWaitTimeInMs ?? 5_000,
    }
    for (const key of ['sessionTimeout', 'rebalanceTimeout', 'heartbeatInterval',
      'maxBytesPerPartition', 'minBytes', 'maxBytes', 'maxWaitTimeInMs'] as const) {
      const value = this.config[key]
      if (!Number.isInteger(value) || value < 0) {
        throw new KafkaJSNonRetriableError(`Consumer ${key} must be a non-negative integer, ` +
          `got ${String(value)}`)
      }
    }
    if (this.config.heartbeatInterval >= this.config.sessionTimeout) {
      throw new KafkaJSNonRetriableError(`Consumer heartbeatInterval ` +
        `(${this.config.heartbeatInterval}) must be lower than sessionTimeout ` +
        `(${this.config.sessionTimeout}).`)
    }
    this.instrumentation = new Instrumentation(CONSUMER_EVENTS, log)
  }

  async connect(): Promise<void> {
    this.runtime = await this.openRuntime().catch((error: unknown) => {
      throw toKafkaJSError(error)
    })
    this.connected = true
    this.instrumentation.emit(CONSUMER_EVENTS.CONNECT, null)
  }

  async disconnect(): Promise<void> {
    await this.stop()
    this.engine?.close()
    this.engine = null
    if (!this.connected) return
    this.connected = false
    this.onDisconnect(this)
    this.instrumentation.emit(CONSUMER_EVENTS.DISCONNECT, null)
  }

  async subscribe(subscription: ConsumerSubscribeTopics | ConsumerSubscribeTopic): Promise<void> {
    if (this.runner !== null || this.engine !== null) {
      throw new KafkaJSNonRetriableError('Cannot subscribe to topic while consumer is running')
    }
    const runtime = this.requireConnected()
    const { topic, topics, fromBeginning = false } =
      subscription as Partial<ConsumerSubscribeTopics & ConsumerSubscribeTopic>
    if (!topic && !topics) throw new KafkaJSNonRetriableError('Missing required argument "topics"')
    if (topics != null && !Array.isArray(topics)) {
      throw new KafkaJSNonRetriableError('Argument "topics" must be an array')
    }
    const wanted = topics ?? [topic!]
    const existing = (await runtime.log.listTopics()).filter((t) => t !== OFFSETS_TOPIC)
    const names: string[] = []
    for (const entry of wanted) {
      if (entry instanceof RegExp) names.push(...existing.filter((t) => entry.test(t)))
      else if (typeof entry === 'string') names.push(entry)
      else {
        throw new KafkaJSNonRetriableError(`Invalid topic ${String(entry)} (${typeof entry}), ` +
          'the topic name has to be a String or a RegExp')
      }
    }
    for (const name of names) {
      await runtime.topic(name, this.rawConfig.allowAutoTopicCreation ?? true)
      this.subscription.set(name, { fromBeginning })
    }
  }

  async run(config: ConsumerRunConfig = {}): Promise<void> {
    if (this.runner !== null) {
      this.log.warn('consumer#run was called, but the consumer is already running',
        { groupId: this.config.groupId })
      return
    }
    if (config.eachMessage === undefined && config.eachBatch === undefined) {
      throw new KafkaJSNonRetriableError('consumer.run needs eachMessage or eachBatch')
    }
    const engine = this.startEngine()
    const runner = new ConsumerRunner(engine, config, this.rawConfig.retry ?? {},
      this.instrumentation, this.log, () => this.disconnect())
    this.runner = runner
    try {
      await runner.start()
    } catch (error) {
      this.runner = null
      runner.running = false
      this.instrumentation.emit(CONSUMER_EVENTS.CRASH,
        { error, groupId: this.config.groupId, restart: false })
      throw toKafkaJSError(error)
    }
  }

  /** Pull: Kafka's poll. Returns available batches (maybe none after maxWaitMs). */
  async fetch(options: FetchOptions = {}): Promise<Batch[]> {
    try {
      return await this.poll(options)
    } catch (error) {
      throw toKafkaJSError(error)
    }
  }

  private async poll(options: FetchOptions): Promise<Batch[]> {
    if (this.runner !== null) {
      throw new KafkaJSNonRetriableError('fetch() cannot be used while consumer.run is active')
    }
    const engine = this.engine ?? this.startEngine()
    const maxWaitMs = options.maxWaitMs ?? this.config.maxWaitTimeInMs
    const minBytes = options.minBytes ?? this.config.minBytes
    const limits = { maxBytes: options.maxBytes ?? this.config.maxBytes,
      maxBytesPerPartition: this.config.maxBytesPerPartition }
    const deadline = Date.now() + maxWaitMs
    for (;;) {
      await engine.ensureJoined(false)
      await engine.applySeeks(false)
      await engine.heartbeatIfDue()
      // The heartbeat may reveal a rebalance: rejoin before reading partitions we may have lost.
      if (engine.session.rebalanceNeeded) continue
      const batches = await engine.fetcher.collect(engine.assignment.active(), limits)
      const bytes = batches.reduce((sum, b) => sum + b.sizeBytes, 0)
      const remainingMs = deadline - Date.now()
      if ((bytes >= minBytes && (batches.length > 0 || minBytes <= 0)) || remainingMs <= 0) {
        return this.advance(engine, batches)
      }
      await engine.waitForMore(engine.assignment.active(), remainingMs)
    }
  }

  async stop(): Promise<void> {
    const runner = this.runner
    if (runner === null) return
    this.runner = null
    await runner.stop()
    this.engine?.close()
    this.engine = null
    this.instrumentation.emit(CONSUMER_EVENTS.STOP, null)
  }

  async commitOffsets(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    const entries = (offsets ?? []).map(({ topic, partition, offset, metadata = null }) => {
      checkTopicPartition(topic, partition)
      const value = parseOffset(offset)
      if (value < 0) throw new KafkaJSNonRetriableError('Offset must not be a negative number')
      if (metadata !== null && typeof metadata !== 'string') {
        throw new KafkaJSNonRetriableError(
          `Invalid offset metadata, expected string or null, received ${String(metadata)}`)
      }
      return { topic, partition, offset: value, metadata }
    })
    const engine = this.requireEngine()
    await engine.session.commit(entries).catch((error: unknown) => {
      throw toKafkaJSError(error)
    })
    for (const e of entries) engine.assignment.markCommitted(e.topic, e.partition, e.offset)
  }

  seek({ topic, partition, offset }: TopicPartitionOffset): void {
    checkTopicPartition(topic, partition)
    const value = parseOffset(offset)
    if (value < 0 && value !== EARLIEST_OFFSET && value !== -1) {
      throw new KafkaJSNonRetriableError('Offset must not be a negative number')
    }
    const engine = this.requireEngine()
    engine.assignment.requestSeek(topic, partition, value)
    engine.wake()
  }

  pause(topics: { topic: string; partitions?: number[] }[]): void {
    checkPauseArgs(topics)
    this.requireEngine().assignment.pause(topics)
  }

  resume(topics: { topic: string; partitions?: number[] }[]): void {
    checkPauseArgs(topics)
    const engine = this.requireEngine()
    engine.assignment.resume(topics)
    engine.wake()
  }

  paused(): TopicPartitions[] {
    return this.engine?.assignment.paused() ?? []
  }

  async describeGroup() {
    const [group] = this.requireConnected().coordinator.describeGroups([this.config.groupId])
    return {
      groupId: group!.groupId, protocol: group!.protocol, protocolType: group!.protocolType,
      state: group!.state,
      members: group!.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId,
        clientHost: m.clientHost, memberMetadata: m.metadata, memberAssignment: m.assignment })),
    }
  }

  on(eventName: string, listener: (event: InstrumentationEvent<any>) => unknown): () => void {
    return this.instrumentation.on(eventName, listener)
  }

  logger(): Logger {
    return this.log
  }

  private startEngine(): ConsumerEngine {
    const runtime = this.requireConnected()
    if (this.subscription.size === 0) {
      throw new KafkaJSNonRetriableError('the consumer has no subscription; call subscribe first')
    }
    this.engine = new ConsumerEngine(runtime, {
      groupId: this.config.groupId, clientId: this.clientId,
      sessionTimeoutMs: this.config.sessionTimeout,
      rebalanceTimeoutMs: this.config.rebalanceTimeout,
      assignors: this.config.partitionAssigners, heartbeatIntervalMs: this.config.heartbeatInterval,
      maxWaitTimeMs: this.config.maxWaitTimeInMs, minBytes: this.config.minBytes,
      maxBytes: this.config.maxBytes, maxBytesPerPartition: this.config.maxBytesPerPartition,
    }, this.subscription, this.instrumentation, this.log)
    return this.engine
  }

  private advance(engine: ConsumerEngine, batches: ConsumerBatch[]): Batch[] {
    for (const batch of batches) {
      engine.assignment.resolve(batch.topic, batch.partition, Number(batch.lastOffset()))
    }
    return batches
  }

  private requireConnected(): Runtime {
    if (!this.connected || this.runtime === null) {
      throw new KafkaJSError('The consumer is not connected; call connect() first',
        { retriable: false })
    }
    return this.runtime
  }

  private requireEngine(): ConsumerEngine {
    if (this.engine === null) throw new KafkaJSNonRetriableError(NOT_INITIALIZED)
    return this.engine
  }
}

function checkTopicPartition(topic: unknown, partition: unknown): void {
  if (!topic || typeof topic !== 'string') {
    throw new KafkaJSNonRetriableError(`Invalid topic ${String(topic)}`)
  }
  if (typeof partition !== 'number' || !Number.isInteger(partition)) {
    throw new KafkaJSNonRetriableError(
      `Invalid partition, expected a number received ${String(partition)}`)
  }
}

function parseOffset(offset: unknown): number {
  const value = typeof offset === 'string' && /^-?\d+$/.test(offset) ? Number(offset)
    : typeof offset === 'number' ? offset : NaN
  if (!Number.isSafeInteger(value)) {
    throw new KafkaJSNonRetriableError(`Invalid offset, expected a long received ${String(offset)}`)
  }
  return value
}

function checkPauseArgs(topics: unknown): void {
  if (!Array.isArray(topics)) throw new KafkaJSNonRetriableError('Expected an array of topics')
  for (const entry of topics as { topic?: unknown; partitions?: unknown }[]) {
    if (!entry?.topic) {
      throw new KafkaJSNonRetriableError(`Invalid topic ${String(entry?.topic ?? entry)}`)
    }
    if (entry.partitions !== undefined && (!Array.isArray(entry.partitions)
      || entry.partitions.some((p) => typeof p !== 'number'))) {
      throw new KafkaJSNonRetriableError('Array of valid partitions required to pause specific ' +
        `partitions instead of ${String(entry.partitions)}`)
    }
  }
}

