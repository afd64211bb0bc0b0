/**
 * Flume's avro source (AvroSource, reference §2.1, §8): an Avro RPC server for Flume's
 * AvroSourceProtocol. Each `appendBatch` (or `append`) is one ChannelProcessor batch; the reply
 * is written after the batch is committed to every required channel (OK), or refused (FAILED,
 * ChannelWriteFail: a full channel after keep-alive, or any other channel failure), so the
 * sender's take commits only once this agent holds the events: chaining's guarantee.
 *
 * Counters as Flume's: AppendBatchReceived/Accepted, AppendReceived/Accepted,
 * EventReceived/Accepted, ChannelWriteFail, OpenConnectionCount (kept live, where Flume samples
 * it each minute). EventReadFail counts connections closed for bad input (a sluice addition:
 * Flume only logs them).
 */
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import type { FrameLimits } from '../avro/frame-codec.js'
import type { FlumeMessageName, FlumeStatus } from '../avro/flume-protocol.js'
import type { IpFilterRule } from '../avro/ip-filter.js'
import { AvroRpcServer } from '../avro/rpc-server.js'
import { loadServerTls, type ServerTlsSettings } from '../avro/tls-material.js'
import { sourceCounter } from '../metrics/counters.js'
import type { EventDrivenSource } from './source.js'

export interface AvroSourceOptions {
  bind: string
  port: number
  /** deflate when true; Flume's AvroSource compresses its replies at level 6. */
  compression: boolean
  tls: ServerTlsSettings | null
  ipFilterRules: IpFilterRule[] | null
  limits: FrameLimits
}

/** Flume's AvroSource deflates at a fixed level. */
const SOURCE_COMPRESSION_LEVEL = 6

export class AvroSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'avro'
  readonly counter
  /** A batch is whatever the client sends: Flume's avro source has no batch size. */
  readonly batchSize = 0
  /** Instrumentation: called once a call's events are committed, before the OK. */
  onAccepted: ((events: FlowEvent[]) => void) | null = null
  private server: AvroRpcServer | null = null

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: AvroSourceOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
  }

  /** The port actually bound (port 0 picks a free one). */
  get port(): number {
    return this.server?.port ?? this.options.port
  }

  async start(): Promise<void> {
    const owner = `source ${this.name}`
    const tls = this.options.tls === null ? null : loadServerTls(this.options.tls, owner)
    const server = new AvroRpcServer(owner, {
      bind: this.options.bind, port: this.options.port,
      compressionLevel: this.options.compression ? SOURCE_COMPRESSION_LEVEL : null,
      tls, ipFilterRules: this.options.ipFilterRules, limits: this.options.limits,
    }, (name, events) => this.accept(name, events), {
      opened: () => this.counter.add('OpenConnectionCount'),
      closed: () => this.counter.add('OpenConnectionCount', -1),
      badInput: () => this.counter.add('EventReadFail'),
    }, this.logger)
    await server.start()
    this.server = server
    this.logger.info(`source ${this.name}: avro listening on ${this.options.bind}:${this.port}` +
      `${tls === null ? '' : ' (TLS)'}${this.options.compression ? ' (deflate)' : ''}`)
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    await server?.stop()
  }

  private async accept(name: FlumeMessageName, events: FlowEvent[]): Promise<FlumeStatus> {
    const batch = name === 'appendBatch'
    this.counter.add(batch ? 'AppendBatchReceivedCount' : 'AppendReceivedCount')
    this.counter.add('EventReceivedCount', events.length)
    try {
      await this.processor.processEventBatch(events)
    } catch (error) {
      this.counter.add('ChannelWriteFail')
      this.logger.warn(`Avro source ${this.name}: Unable to process event batch of ` +
        `${events.length}: ${(error as Error).message}`)
      return 'FAILED'
    }
    this.counter.add(batch ? 'AppendBatchAcceptedCount' : 'AppendAcceptedCount')
    this.counter.add('EventAcceptedCount', events.length)
    this.onAccepted?.(events)
    return 'OK'
  }
}
