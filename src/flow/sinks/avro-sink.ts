/**
 * Flume's avro sink (AvroSink / AbstractRpcSink, reference §2.3, §3.4, §3.5): takes up to
 * batch-size events in one channel transaction, sends them as one `appendBatch` to the next
 * hop's avro source, and commits the take only when the answer is OK, which the source sends
 * only after its own channel commit. FAILED (the next hop is full), a timeout or a lost
 * connection rolls the take back (the events return to the head of the channel, in order),
 * closes the connection and throws, so the runner backs off (5 s in Flume) before a new
 * connection resends the same events. Nobody has to step in when the next hop comes back.
 *
 * reset-connection-interval (seconds, 0 = never) replaces the connection before the first
 * batch after it has been open that long, so a load balancer in front of several sources
 * spreads long-lived senders (Flume's reason for the key).
 *
 * Counters: ConnectionCreatedCount / ConnectionClosedCount / ConnectionFailedCount, and the
 * batch counters BatchSink keeps.
 */
import type { FlowEvent, FlowLogger } from '../event.js'
import type { FrameLimits } from '../avro/frame-codec.js'
import { AvroRpcClient } from '../avro/rpc-client.js'
import { loadClientTls, type ClientTlsSettings } from '../avro/tls-material.js'
import type { Channel } from '../transaction.js'
import { BatchSink } from './sink.js'

export interface AvroSinkOptions {
  hostname: string
  port: number
  batchSize: number
  connectTimeoutMs: number
  requestTimeoutMs: number
  /** 0: never. */
  resetConnectionIntervalMs: number
  /** zlib level when compression-type = deflate; null: none. */
  compressionLevel: number | null
  tls: ClientTlsSettings | null
  limits: FrameLimits
}

export class AvroSink extends BatchSink {
  readonly type = 'avro'
  private client: AvroRpcClient | null = null
  private connectedAtMs = 0

  constructor(name: string, channel: Channel, private readonly options: AvroSinkOptions,
    private readonly logger: FlowLogger, private readonly now: () => number = Date.now) {
    super(name, channel, options.batchSize)
  }

  override async stop(): Promise<void> {
    this.closeConnection()
    await super.stop()
  }

  protected async deliver(events: FlowEvent[]): Promise<void> {
    const interval = this.options.resetConnectionIntervalMs
    if (this.client !== null && interval > 0 && this.now() - this.connectedAtMs >= interval) {
      this.logger.info(`sink ${this.name}: reset-connection-interval passed, reconnecting`)
      this.closeConnection()
    }
    const client = this.client ?? await this.connect()
    try {
      await client.appendBatch(events)
    } catch (error) {
      this.closeConnection()
      throw error
    }
  }

  private async connect(): Promise<AvroRpcClient> {
    const { hostname, port } = this.options
    try {
      const tls = this.options.tls === null ? null
        : loadClientTls(this.options.tls, `sink ${this.name}`)
      this.client = await AvroRpcClient.connect({
        host: hostname, port, connectTimeoutMs: this.options.connectTimeoutMs,
        requestTimeoutMs: this.options.requestTimeoutMs,
        compressionLevel: this.options.compressionLevel, tls, limits: this.options.limits,
      })
    } catch (error) {
      this.counter.add('ConnectionFailedCount')
      throw error
    }
    this.connectedAtMs = this.now()
    this.counter.add('ConnectionCreatedCount')
    this.logger.info(`sink ${this.name}: connected to ${hostname}:${port}`)
    return this.client
  }

  private closeConnection(): void {
    if (this.client === null) return
    this.client.close()
    this.client = null
    this.counter.add('ConnectionClosedCount')
  }
}
