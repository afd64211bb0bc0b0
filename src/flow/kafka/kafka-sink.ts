/**
 * Flume's Kafka sink (org.apache.flume.sink.kafka.KafkaSink, reference §2.3): each process()
 * takes up to flumeBatchSize events in one channel transaction, produces them as one request,
 * and commits the take only once the produce is acknowledged (kafka.producer.acks). A refused
 * or failed produce rolls the take back, so the events return to the head of the channel in
 * order and the runner backs off and retries them: duplicates are possible, loss is not.
 *
 * Per event, as Flume 1.11 builds its ProducerRecord:
 *   topic      the `topicHeader` header when allowTopicOverride, else kafka.topic with its
 *              %{header} escapes filled in (a missing header is empty, as in Flume);
 *   key        the `key` header (UTF-8);
 *   partition  defaultPartitionId, overridden by the partitionIdHeader header when present
 *              (a value that is not an integer fails the batch, as Flume's does);
 *   timestamp  the timestampHeader header when it holds epoch millis (else the client's clock);
 *   headers    `header.<flume> = <kafka>` copies;
 *   value      the body, or the whole event as an AvroFlumeEvent (useFlumeEventFormat).
 *
 * One change from Flume: the %{header} escapes apply also when allowTopicOverride is false
 * (Flume then sends to the unescaped text, a topic name Kafka refuses).
 *
 * The producer connects on the first batch, not at start, so an agent starts while its broker
 * is down and delivers once it is back.
 */
import type * as Kafka from 'kafkajs'
import type { FlowEvent, FlowLogger } from '../event.js'
import { BatchSink, deliveryError } from '../sinks/sink.js'
import type { Channel } from '../transaction.js'
import type { ProducerSettings } from './client-properties.js'
import { encodeFlumeEvent } from './flume-event-format.js'
import { openKafkaClients, type KafkaClients, type KafkaProducerClient } from './kafka-clients.js'

export interface KafkaSinkOptions {
  bootstrapServers: string
  topic: string
  batchSize: number
  useFlumeEventFormat: boolean
  defaultPartitionId: number | undefined
  partitionIdHeader: string | undefined
  allowTopicOverride: boolean
  topicHeader: string
  timestampHeader: string | undefined
  /** `header.<flumeHeader> = <kafkaHeader>`: flume name → Kafka header name. */
  headerMap: Map<string, string>
  producer: ProducerSettings
}

/** How long the broker may take to acknowledge (kafkajs send timeout), Kafka's default. */
const DEFAULT_ACK_TIMEOUT_MS = 30_000
const HEADER_ESCAPE = /%\{([\w.-]+)\}/g

export class KafkaSink extends BatchSink {
  readonly type = 'kafka'
  private clients: KafkaClients | null = null
  private producer: KafkaProducerClient | null = null

  constructor(name: string, channel: Channel, private readonly options: KafkaSinkOptions,
    private readonly logger: FlowLogger) {
    super(name, channel, options.batchSize)
  }

  override async start(): Promise<void> {
    await super.start()
    const { bootstrapServers, producer } = this.options
    this.clients = openKafkaClients(bootstrapServers, { clientId: producer.clientId ??
      `flume-${this.name}`, requestTimeoutMs: producer.requestTimeoutMs,
    retry: this.retry() }, this.logger)
  }

  /** Kafka's retries and retry.backoff.ms, for the send and for the connection under it. */
  private retry(): Kafka.RetryOptions | undefined {
    const { retries, retryBackoffMs } = this.options.producer
    if (retries === undefined && retryBackoffMs === undefined) return undefined
    return { ...(retries === undefined ? {} : { retries }),
      ...(retryBackoffMs === undefined ? {} : { initialRetryTime: retryBackoffMs }) }
  }

  override async stop(): Promise<void> {
    await this.disconnect()
    await this.clients?.release()
    this.clients = null
    await super.stop()
  }

  protected async deliver(events: FlowEvent[]): Promise<void> {
    const topicMessages = this.toTopicMessages(events)
    const producer = await this.connected()
    const { acks, compression, requestTimeoutMs } = this.options.producer
    try {
      await producer.sendBatch({ topicMessages, acks, compression,
        timeout: requestTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS })
    } catch (error) {
      // kafkajs may leave a broken connection behind: start the next attempt from a fresh one.
      await this.disconnect()
      const topics = topicMessages.map((t) => t.topic).join(', ')
      throw deliveryError(`producing ${events.length} events to ${topics} at ` +
        `${this.clients?.address} failed: ${(error as Error).message}`, error)
    }
  }

  private async connected(): Promise<KafkaProducerClient> {
    if (this.producer !== null) return this.producer
    const retry = this.retry()
    const producer = this.clients!.producer({ allowAutoTopicCreation: true,
      ...(retry === undefined ? {} : { retry }) })
    try {
      await producer.connect()
    } catch (error) {
      this.counter.add('ConnectionFailedCount')
      await producer.disconnect().catch(() => undefined)
      throw deliveryError(`sink ${this.name} cannot connect to ${this.clients!.address}: ` +
        `${(error as Error).message}`, error)
    }
    this.counter.add('ConnectionCreatedCount')
    this.producer = producer
    return producer
  }

  private async disconnect(): Promise<void> {
    const producer = this.producer
    if (producer === null) return
    this.producer = null
    this.counter.add('ConnectionClosedCount')
    await producer.disconnect().catch((error: unknown) =>
      this.logger.warn(`sink ${this.name}: disconnect: ${(error as Error).message}`))
  }

  /** The batch as kafkajs topicMessages, each topic's events in channel order. */
  private toTopicMessages(events: FlowEvent[]): Kafka.TopicMessages[] {
    const byTopic = new Map<string, Kafka.Message[]>()
    for (const event of events) {
      const topic = this.topicOf(event)
      let messages = byTopic.get(topic)
      if (messages === undefined) byTopic.set(topic, messages = [])
      messages.push(this.toMessage(event))
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }))
  }

  private topicOf(event: FlowEvent): string {
    const { allowTopicOverride, topicHeader, topic } = this.options
    const override = allowTopicOverride ? event.headers[topicHeader] : undefined
    const chosen = override ?? topic.replace(HEADER_ESCAPE,
      (_, name: string) => event.headers[name] ?? '')
    if (chosen === '') {
      throw deliveryError(`sink ${this.name}: the topic for an event is empty (kafka.topic ` +
        `${JSON.stringify(topic)} with its headers filled in)`)
    }
    return chosen
  }

  private toMessage(event: FlowEvent): Kafka.Message {
    const { headers } = event
    const message: Kafka.Message = {
      key: headers.key ?? null,
      value: this.options.useFlumeEventFormat ? encodeFlumeEvent(event) : event.body,
    }
    const partition = this.partitionOf(event)
    if (partition !== undefined) message.partition = partition
    const timestamp = this.timestampOf(event)
    if (timestamp !== undefined) message.timestamp = timestamp
    if (this.options.headerMap.size > 0) {
      const kafkaHeaders: Kafka.IHeaders = {}
      for (const [flumeName, kafkaName] of this.options.headerMap) {
        const value = headers[flumeName]
        if (value !== undefined) kafkaHeaders[kafkaName] = value
      }
      if (Object.keys(kafkaHeaders).length > 0) message.headers = kafkaHeaders
    }
    return message
  }

  private partitionOf(event: FlowEvent): number | undefined {
    const { partitionIdHeader, defaultPartitionId } = this.options
    const written = partitionIdHeader === undefined ? undefined : event.headers[partitionIdHeader]
    if (written === undefined) return defaultPartitionId
    if (!/^\d+$/.test(written) || !Number.isSafeInteger(Number(written))) {
      throw deliveryError(`sink ${this.name}: Non integer partition id specified in header ` +
        `${partitionIdHeader}: ${JSON.stringify(written)}`)
    }
    return Number(written)
  }

  private timestampOf(event: FlowEvent): string | undefined {
    const { timestampHeader } = this.options
    if (timestampHeader === undefined) return undefined
    const written = event.headers[timestampHeader]
    if (written === undefined) return undefined
    if (/^\d+$/.test(written) && Number.isSafeInteger(Number(written))) return written
    this.logger.warn(`sink ${this.name}: Invalid timestamp in header ${timestampHeader} - ` +
      `${written}; using the current time`)
    return undefined
  }
}
