/**
 * `new Sluice({ dataDir })`: the embedded client's entry point, standing where kafkajs's
 * `new Kafka({ brokers })` stands. It hands out producers, consumers and admins that share one
 * Log (opened on the first connect, or the one passed in) and one group coordinator, and
 * `close()` disconnects them all and closes the Log if Sluice opened it.
 */
import { SluiceAdmin } from './admin.js'
import { SluiceConsumer } from './consumer.js'
import { KafkaJSNonRetriableError } from './errors.js'
import { createLogger, type Logger } from './logger.js'
import { SluiceProducer } from './producer.js'
import { Runtime } from './runtime.js'
import type { ConsumerConfig, ProducerConfig, SluiceConfig } from './types.js'
import type { BrokerOptions, KafkaBroker } from '../kafka/index.js'

/** `sluice.listen` options: the broker's, minus the Log and coordinator Sluice supplies. */
export type ListenOptions = Omit<BrokerOptions, 'log' | 'coordinator'>

export class Sluice {
  private runtime: Promise<Runtime> | null = null
  private readonly rootLogger: Logger
  private readonly clients = new Set<{ disconnect(): Promise<void> }>()
  private closed = false

  constructor(private readonly config: SluiceConfig) {
    if (config === null || typeof config !== 'object') {
      throw new KafkaJSNonRetriableError('new Sluice() needs a config object')
    }
    if (config.log === undefined
      && (typeof config.dataDir !== 'string' || config.dataDir.length === 0)) {
      throw new KafkaJSNonRetriableError('new Sluice() needs { dataDir } or { log }')
    }
    this.rootLogger = createLogger({ level: config.logLevel, logCreator: config.logCreator })
  }

  producer(config: ProducerConfig = {}): SluiceProducer {
    const producer = new SluiceProducer(() => this.open(), config,
      this.rootLogger.namespace('Producer'), (p) => this.clients.delete(p))
    return this.track(producer)
  }

  consumer(config: ConsumerConfig): SluiceConsumer {
    const consumer = new SluiceConsumer(() => this.open(), this.config.clientId ?? 'sluice',
      config, this.rootLogger.namespace('Consumer'), (c) => this.clients.delete(c))
    return this.track(consumer)
  }

  admin(): SluiceAdmin {
    return this.track(new SluiceAdmin(() => this.open(), this.rootLogger.namespace('Admin')))
  }

  /**
   * Serves this Sluice's Log over the Kafka wire protocol (default 127.0.0.1:9092), sharing its
   * group coordinator with the embedded clients, so a kafkajs consumer and an embedded one can
   * be in one group. The broker's `close()` stops it alone; `Sluice.close()` stops it too.
   */
  async listen(options: ListenOptions = {}): Promise<KafkaBroker> {
    const runtime = await this.open()
    // Loaded on demand: embedded use never pays for the protocol code.
    const kafka = await import('../kafka/index.js')
    const broker = await kafka.startBroker({ logger: kafka.stderrLogger('warn'), ...options,
      log: runtime.log, coordinator: runtime.coordinator })
    this.track({ disconnect: () => broker.close() })
    return broker
  }

  logger(): Logger {
    return this.rootLogger
  }

  /** Disconnects every client, then closes the Log if this Sluice opened it. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.allSettled([...this.clients].map((client) => client.disconnect()))
    this.clients.clear()
    if (this.runtime !== null) await (await this.runtime.catch(() => null))?.close()
  }

  private track<T extends { disconnect(): Promise<void> }>(client: T): T {
    if (this.closed) throw new KafkaJSNonRetriableError('this Sluice has been closed')
    this.clients.add(client)
    return client
  }

  private open(): Promise<Runtime> {
    if (this.closed) {
      return Promise.reject(new KafkaJSNonRetriableError('this Sluice has been closed'))
    }
    if (this.runtime === null) {
      this.runtime = Runtime.open(this.config)
      // A failed open may be retried by the next connect.
      this.runtime.catch(() => { this.runtime = null })
    }
    return this.runtime
  }
}
