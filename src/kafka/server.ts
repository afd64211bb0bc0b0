/**
 * The Kafka wire-protocol broker: a TCP listener whose connections (connection.ts) dispatch
 * frames to the per-API handlers over one Log and one GroupCoordinator. It listens on loopback
 * unless told otherwise and advertises the address it listens on (or `advertisedHost/Port`,
 * for clients that must reach it by another name). `close()` stops accepting, ends every
 * connection and resolves once the listener is closed; the Log and coordinator stay open, as
 * they belong to the caller.
 */
import * as net from 'node:net'
import { randomUUID } from 'node:crypto'
import { SluiceError } from '../errors.js'
import type { Log } from '../engine/log.js'
import type { TopicConfig } from '../engine/types.js'
import type { GroupCoordinator } from '../groups/coordinator.js'
import { BrokerState } from './broker-state.js'
import { Connection, type ConnectionLimits } from './connection.js'
import { stderrLogger, type BrokerLogger } from './logger.js'

export interface BrokerOptions {
  log: Log
  coordinator: GroupCoordinator
  /** TCP port; 0 picks a free one. Default 9092. */
  port?: number
  /** Interface to listen on. Default 127.0.0.1 (loopback). */
  host?: string
  /** Host clients are told to connect to. Default: `host` (or 127.0.0.1 for 0.0.0.0 / ::). */
  advertisedHost?: string
  /** Port clients are told to connect to. Default: the bound port. */
  advertisedPort?: number
  /** Create unknown topics on Metadata and Produce (auto.create.topics.enable). Default true. */
  autoCreateTopics?: boolean
  /** Partitions of a topic the broker creates with no count given (num.partitions). Default 1. */
  defaultPartitions?: number
  /** Settings of topics the broker creates, e.g. { durability: 'os' }. Default: Log defaults. */
  topicDefaults?: Omit<TopicConfig, 'partitions'>
  /** Largest request frame accepted, checked before anything is allocated. Default 100 MiB. */
  maxRequestBytes?: number
  /** Unsent reply bytes on a socket above which its reads pause. Default 8 MiB. */
  maxWriteBufferBytes?: number
  /** Requests of one connection awaiting their reply above which its reads pause. Default 256. */
  maxInFlightRequests?: number
  /** Request bytes of one connection awaiting their reply before reads pause. Default 64 MiB. */
  maxInFlightBytes?: number
  /** This broker's node id in Metadata. Default 1. */
  nodeId?: number
  clusterId?: string
  logger?: BrokerLogger
}

export interface KafkaBroker {
  /** The bound port (useful with port 0). */
  readonly port: number
  /** The bound address. */
  readonly address: string
  /** Open client connections. */
  readonly connectionCount: number
  /** Connection counters: what the bounds are doing right now. */
  stats(): BrokerStats
  close(): Promise<void>
}

export interface BrokerStats {
  connections: number
  /** Connections whose reads are paused (write buffer or in-flight bound reached). */
  pausedConnections: number
  /** Reply bytes queued on sockets, not yet sent. */
  unsentReplyBytes: number
}

const MIB = 1024 * 1024
export const DEFAULT_MAX_REQUEST_BYTES = 100 * MIB

export async function startBroker(options: BrokerOptions): Promise<KafkaBroker> {
  const limits = resolveLimits(options)
  const host = options.host ?? '127.0.0.1'
  const logger = options.logger ?? stderrLogger()
  const connections = new Set<Connection>()
  const server = net.createServer()
  const port = options.port ?? 9092
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)))
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = server.address() as net.AddressInfo
  const state = new BrokerState(options.log, options.coordinator, {
    nodeId: options.nodeId ?? 1,
    host: options.advertisedHost ?? advertisable(host),
    port: options.advertisedPort ?? bound.port,
    clusterId: options.clusterId ?? `sluice-${randomUUID()}`,
  }, {
    autoCreateTopics: options.autoCreateTopics ?? true,
    defaultPartitions: options.defaultPartitions ?? 1,
    topicDefaults: options.topicDefaults ?? {},
  }, logger)
  server.on('connection', (socket) => {
    connections.add(new Connection(socket, state, limits, (c) => connections.delete(c)))
  })
  server.on('error', (error) => logger.error('listener error', { error: error.message }))
  logger.info('kafka broker listening', { address: bound.address, port: bound.port,
    advertised: `${state.identity.host}:${state.identity.port}` })
  let closing: Promise<void> | null = null
  return {
    port: bound.port,
    address: bound.address,
    get connectionCount() { return connections.size },
    stats() {
      let pausedConnections = 0
      let unsentReplyBytes = 0
      for (const connection of connections) {
        if (connection.isPaused) pausedConnections++
        unsentReplyBytes += connection.unsentReplyBytes
      }
      return { connections: connections.size, pausedConnections, unsentReplyBytes }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const connection of [...connections]) connection.close(null)
      })
      return closing
    },
  }
}

function resolveLimits(options: BrokerOptions): ConnectionLimits {
  const limits: ConnectionLimits = {
    maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    maxWriteBufferBytes: options.maxWriteBufferBytes ?? 8 * MIB,
    maxInFlightRequests: options.maxInFlightRequests ?? 256,
    maxInFlightBytes: options.maxInFlightBytes ?? 64 * MIB,
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) {
      throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
        `${name} must be a positive integer, got ${String(value)}`)
    }
  }
  const partitions = options.defaultPartitions ?? 1
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `defaultPartitions must be a positive integer, got ${String(partitions)}`)
  }
  return limits
}

/** A wildcard address cannot be connected to; tell clients to use loopback instead. */
function advertisable(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
}

/** A listen failure (port taken, address not ours, no permission) as a typed error. */
function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is already in use',
    EADDRNOTAVAIL: 'the address is not one of this machine\'s',
    EACCES: 'permission denied (ports below 1024 need privileges)',
  }
  const reason = error.code === undefined ? undefined : why[error.code]
  if (reason === undefined) return error
  return new SluiceError('SLUICE_ERR_INVALID_CONFIG', `cannot listen on ${host}:${port}: ` +
    `${reason} (${error.code}); choose another address or port`, { cause: error })
}
