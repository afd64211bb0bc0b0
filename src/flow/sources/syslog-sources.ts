/**
 * Flume's syslogtcp and syslogudp sources (SyslogTcpSource, SyslogUDPSource; reference §2.1):
 * messages framed and parsed by syslog-parser.ts, with the client's address in clientIPHeader
 * and its name (a reverse lookup through getnameinfo, so /etc/hosts counts) in
 * clientHostnameHeader when those are set.
 *
 * Refusals, where sluice is stricter than Flume (which logs and drops in both sources):
 *   tcp  a connection's socket is paused while its messages commit, and a batch the channel
 *        refuses as full is retried (backing off up to MAX_RETRY_BACKOFF_MS) with the socket
 *        still paused, so a fast sender fills its TCP window instead of losing messages. A
 *        batch refused for another reason, or still pending when the source stops, is dropped
 *        and counted (EventLostCount) with an error naming the count.
 *   udp  a datagram cannot be pushed back: one the channel refuses is dropped and counted,
 *        and so is one arriving while MAX_PENDING_DATAGRAMS wait for the channel (memory stays
 *        bounded however fast senders are).
 * `batchSize` (sluice's, default 1 = Flume's one event per commit) lets messages that arrived
 * together share one commit.
 */
import * as dgram from 'node:dgram'
import { promises as dns } from 'node:dns'
import * as net from 'node:net'
import { isSluiceError, SluiceError } from '../../errors.js'
import type { ChannelProcessor } from '../channel-processor.js'
import type { Props } from '../config/props.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { listenServer } from '../listen.js'
import { sourceCounter } from '../metrics/counters.js'
import { Signal, sleepUnless } from '../signal.js'
import {
  DEFAULT_SYSLOG_EVENT_SIZE_BYTES, MAX_SYSLOG_DATAGRAM_BYTES, MIN_SYSLOG_EVENT_SIZE_BYTES,
  parseKeepFields, parseSyslog, syslogMessageOfDatagram, SyslogTcpFramer, type KeepFields,
  type SyslogMessage,
} from './syslog-parser.js'
import type { EventDrivenSource } from './source.js'

const FIRST_RETRY_BACKOFF_MS = 100
const MAX_RETRY_BACKOFF_MS = 5000
/** Reverse lookups remembered for UDP senders; the cache is emptied when it fills. */
const MAX_CACHED_HOSTNAMES = 1024
/** Datagrams received but not yet committed; past this a datagram is dropped and counted. */
export const MAX_PENDING_DATAGRAMS = 1024

export interface SyslogOptions {
  host: string
  port: number
  eventSizeBytes: number
  keepFields: KeepFields
  clientIPHeader: string | null
  clientHostnameHeader: string | null
  batchSize: number
  nowMs?: () => number
}

/** Reads the keys both sources share (Flume's SyslogSourceConfigurationConstants). */
export function syslogOptionsFrom(props: Props, transport: 'tcp' | 'udp'): SyslogOptions {
  if (!props.has('port')) throw props.fail('port', 'is required')
  if (props.bool('ssl', false)) throw props.fail('ssl', 'TLS syslog is not supported by sluice')
  if (props.under('format').length > 0) {
    throw props.fail(`format.${props.under('format')[0]}`,
      'custom syslog formats (format.regex/search/replace/dateFormat) are not supported')
  }
  const keepFields = props.string('keepFields', 'none')
  const eventSizeBytes = transport === 'tcp'
    ? props.int('eventSize', DEFAULT_SYSLOG_EVENT_SIZE_BYTES, 1) : MAX_SYSLOG_DATAGRAM_BYTES
  return {
    host: props.string('host', '0.0.0.0'), port: props.int('port', 0, 0, 65535),
    // Flume raises an eventSize below 10 to 10 (SyslogUtils.MIN_SIZE).
    eventSizeBytes: Math.max(MIN_SYSLOG_EVENT_SIZE_BYTES, eventSizeBytes),
    keepFields: parseKeepFields(keepFields),
    clientIPHeader: props.has('clientIPHeader') ? props.required('clientIPHeader') : null,
    clientHostnameHeader: props.has('clientHostnameHeader')
      ? props.required('clientHostnameHeader') : null,
    batchSize: props.int('batchSize', 1, 1),
  }
}

/** What both sources share: parsing, client headers, committing with counters. */
abstract class SyslogSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  abstract readonly type: string
  readonly counter
  protected stopping = false
  protected readonly stopped = new Signal()
  private readonly hostnames = new Map<string, Promise<string>>()

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    protected readonly options: SyslogOptions, protected readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  abstract start(): Promise<void>
  abstract stop(): Promise<void>

  protected async eventOf(message: SyslogMessage, address: string | undefined)
    : Promise<FlowEvent> {
    const parsed = parseSyslog(message, { keepFields: this.options.keepFields,
      nowMs: this.options.nowMs ?? Date.now })
    const ip = plainAddress(address ?? '')
    if (this.options.clientIPHeader !== null) parsed.headers[this.options.clientIPHeader] = ip
    if (this.options.clientHostnameHeader !== null) {
      parsed.headers[this.options.clientHostnameHeader] = await this.hostnameOf(ip)
    }
    return parsed
  }

  /** Flume's getHostName: the reverse-resolved name, or the address when there is none. */
  private hostnameOf(ip: string): Promise<string> {
    let name = this.hostnames.get(ip)
    if (name === undefined) {
      if (this.hostnames.size >= MAX_CACHED_HOSTNAMES) this.hostnames.clear()
      name = dns.lookupService(ip, 0).then((found) => found.hostname, () => ip)
      this.hostnames.set(ip, name)
    }
    return name
  }

  /** One commit: ok, refused as full (retriable), or failed (the batch is dropped, counted). */
  protected async commit(events: FlowEvent[]): Promise<'ok' | 'full' | 'failed'> {
    this.counter.add('AppendBatchReceivedCount')
    try {
      await this.processor.processEventBatch(events)
      this.counter.add('EventAcceptedCount', events.length)
      this.counter.add('AppendBatchAcceptedCount')
      return 'ok'
    } catch (error) {
      this.counter.add('ChannelWriteFail')
      if (isSluiceError(error, 'SLUICE_ERR_CHANNEL_FULL')) return 'full'
      this.lose(events.length, (error as Error).message)
      return 'failed'
    }
  }

  protected lose(count: number, why: string): void {
    this.counter.add('EventLostCount', count)
    this.logger.error(`source ${this.name}: ${count} syslog events dropped: ${why}`)
  }
}

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d; Flume reports a.b.c.d. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7)
    : address
}

export class SyslogTcpSource extends SyslogSource {
  readonly type = 'syslogtcp'
  private server: net.Server | null = null
  private readonly connections = new Map<net.Socket, Promise<void>>()

  get port(): number {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : this.options.port
  }

  async start(): Promise<void> {
    this.stopping = false
    const server = net.createServer((socket) => this.accept(socket))
    this.server = server
    await listenServer(server, this.options.port, this.options.host, `source ${this.name}`)
    server.on('error', (error) => this.logger.error(`source ${this.name}: ${error.message}`))
    this.logger.info(`source ${this.name}: syslog tcp on ${this.options.host}:${this.port}`)
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.stopped.notify()
    const server = this.server
    this.server = null
    const closed = server === null ? Promise.resolve()
      : new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of this.connections.keys()) socket.pause()
    await Promise.all(this.connections.values())
    for (const socket of this.connections.keys()) socket.destroy()
    await closed
  }

  private accept(socket: net.Socket): void {
    this.counter.add('OpenConnectionCount')
    const framer = new SyslogTcpFramer(this.options.eventSizeBytes)
    // Read now: a closed socket no longer reports it, and messages may commit after the close.
    const address = socket.remoteAddress
    let draining: Promise<void> = Promise.resolve()
    this.connections.set(socket, draining)
    socket.on('data', (chunk: Buffer) => {
      socket.pause()
      const messages = framer.push(chunk)
      draining = draining.then(async () => {
        await this.deliver(messages, address)
        if (!this.stopping && !socket.destroyed) socket.resume()
      })
      this.connections.set(socket, draining)
    })
    // A last message without a trailing newline ends with the connection: deliver it too.
    socket.on('end', () => {
      const last = framer.flush()
      if (last === null) return
      draining = draining.then(() => this.deliver([last], address))
      this.connections.set(socket, draining)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.counter.add('OpenConnectionCount', -1)
      // Kept until its messages are committed, so a stop waits for them.
      const settled = draining
      void settled.then(() => {
        if (this.connections.get(socket) === settled) this.connections.delete(socket)
      })
    })
  }

  private async deliver(messages: SyslogMessage[], address: string | undefined)
    : Promise<void> {
    for (let start = 0; start < messages.length; start += this.options.batchSize) {
      const batch = messages.slice(start, start + this.options.batchSize)
      const events = await Promise.all(batch.map((message) => this.eventOf(message, address)))
      this.counter.add('EventReceivedCount', events.length)
      await this.commitWithRetry(events)
    }
  }

  /** A full channel is retried with the socket paused; see the module comment. */
  private async commitWithRetry(events: FlowEvent[]): Promise<void> {
    let backoffMs = FIRST_RETRY_BACKOFF_MS
    for (;;) {
      if (this.stopping) {
        this.lose(events.length, 'the source stopped while the channel was full')
        return
      }
      if (await this.commit(events) !== 'full') return
      this.logger.warn(`source ${this.name}: channel full, retrying ${events.length} syslog ` +
        `events in ${backoffMs} ms`)
      await sleepUnless(backoffMs, this.stopped)
      backoffMs = Math.min(backoffMs * 2, MAX_RETRY_BACKOFF_MS)
    }
  }
}

export class SyslogUdpSource extends SyslogSource {
  readonly type = 'syslogudp'
  private socket: dgram.Socket | null = null
  private delivering: Promise<void> = Promise.resolve()
  private pendingDatagrams = 0

  get port(): number {
    return this.socket?.address().port ?? this.options.port
  }

  async start(): Promise<void> {
    this.stopping = false
    const type = net.isIPv6(this.options.host) ? 'udp6' : 'udp4'
    const socket = dgram.createSocket({ type, recvBufferSize: MAX_SYSLOG_DATAGRAM_BYTES })
    this.socket = socket
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(this.options.port, this.options.host, () => {
        socket.off('error', reject)
        resolve()
      })
    }).catch((error: NodeJS.ErrnoException) => {
      throw listenError(this.name, this.options, error)
    })
    socket.on('error', (error) => this.logger.error(`source ${this.name}: ${error.message}`))
    socket.on('message', (datagram, remote) => {
      this.counter.add('EventReceivedCount')
      if (this.pendingDatagrams >= MAX_PENDING_DATAGRAMS) {
        this.lose(1, `${MAX_PENDING_DATAGRAMS} datagrams are already waiting for the channel`)
        return
      }
      // Datagrams commit one at a time, in arrival order.
      this.pendingDatagrams++
      this.delivering = this.delivering.then(() => this.deliver(datagram, remote.address))
        .catch((error: Error) => this.lose(1, error.message))
        .finally(() => this.pendingDatagrams--)
    })
    this.logger.info(`source ${this.name}: syslog udp on ${this.options.host}:${this.port}`)
  }

  async stop(): Promise<void> {
    this.stopping = true
    const socket = this.socket
    this.socket = null
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()))
    await this.delivering
  }

  private async deliver(datagram: Buffer, address: string): Promise<void> {
    const event = await this.eventOf(syslogMessageOfDatagram(datagram), address)
    // A datagram cannot be pushed back: a full channel drops it, counted (Flume drops it too).
    if (await this.commit([event]) === 'full') this.lose(1, 'the channel is full')
  }
}

/** A failed UDP bind, typed like listenServer's for the TCP servers. */
function listenError(name: string, options: SyslogOptions, error: NodeJS.ErrnoException)
  : SluiceError {
  return new SluiceError('SLUICE_ERR_FLOW_CONFIG', `source ${name}: cannot bind udp ` +
    `${options.host}:${options.port}: ${error.message} (${error.code ?? 'error'})`,
  { cause: error })
}

export function buildSyslogTcpSource(props: Props, processor: ChannelProcessor,
  logger: FlowLogger): SyslogTcpSource {
  return new SyslogTcpSource(props.name, processor, syslogOptionsFrom(props, 'tcp'), logger)
}

export function buildSyslogUdpSource(props: Props, processor: ChannelProcessor,
  logger: FlowLogger): SyslogUdpSource {
  return new SyslogUdpSource(props.name, processor, syslogOptionsFrom(props, 'udp'), logger)
}
