/**
 * The avro source's server: accepts TCP connections, filters them (ipFilterRules), adds TLS and
 * deflate in Flume's order (see frame-pipe.ts), and gives each a ServerConnection.
 *
 * stop(): no new connections; each connection stops reading, its call in flight finishes (the
 * commit and its reply), then every socket is closed. A call queued but not begun is never
 * acknowledged, so the client resends it: nothing accepted is lost, nothing unaccepted is
 * acknowledged.
 */
import * as net from 'node:net'
import * as tls from 'node:tls'
import type { FlowLogger } from '../event.js'
import { listenServer } from '../listen.js'
import type { FrameLimits } from './frame-codec.js'
import { framePipe } from './frame-pipe.js'
import { ipFilterAccepts, type IpFilterRule } from './ip-filter.js'
import { ProtocolCache, ServerConnection, type CallHandler } from './server-connection.js'

export interface RpcServerOptions {
  bind: string
  port: number
  /** zlib level for replies when compression-type = deflate; null: no compression. */
  compressionLevel: number | null
  /** The source's certificate and key (loadServerTls); null: plain TCP. */
  tls: tls.SecureContext | null
  ipFilterRules: IpFilterRule[] | null
  limits: FrameLimits
}

export interface ConnectionEvents {
  opened(): void
  closed(): void
  badInput(): void
}

export class AvroRpcServer {
  private server: net.Server | null = null
  private readonly sockets = new Map<net.Socket, ServerConnection | null>()
  private readonly protocols = new ProtocolCache()

  constructor(private readonly owner: string, private readonly options: RpcServerOptions,
    private readonly handle: CallHandler, private readonly events: ConnectionEvents,
    private readonly logger: FlowLogger) {}

  get port(): number {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : this.options.port
  }

  async start(): Promise<void> {
    const server = net.createServer((socket) => void this.accept(socket))
    this.server = server
    await listenServer(server, this.options.port, this.options.bind, this.owner)
    server.on('error', (error) => this.logger.error(`${this.owner}: ${error.message}`))
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (server === null) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const connection of this.sockets.values()) connection?.stopReading()
    await Promise.all([...this.sockets.values()].map((connection) => connection?.idle()))
    for (const socket of this.sockets.keys()) socket.destroy()
    await closed
  }

  private async accept(raw: net.Socket): Promise<void> {
    const peer = `${raw.remoteAddress}:${raw.remotePort}`
    raw.on('error', (error) => this.logger.warn(`${this.owner}: connection from ${peer}: ` +
      error.message))
    this.sockets.set(raw, null)
    this.events.opened()
    raw.once('close', () => {
      this.sockets.delete(raw)
      this.events.closed()
    })
    if (!await this.admitted(raw, peer)) return
    const context = this.options.tls
    const socket = context === null ? raw : await this.secure(raw, peer, context)
    if (socket === null || raw.destroyed || this.server === null) {
      raw.destroy()
      return
    }
    const pipe = framePipe(socket, this.options.compressionLevel)
    this.sockets.set(raw, new ServerConnection(socket, pipe, this.options.limits,
      this.protocols, this.handle, this.logger, `${this.owner}: connection from ${peer}`,
      () => this.events.badInput()))
  }

  private async admitted(raw: net.Socket, peer: string): Promise<boolean> {
    const rules = this.options.ipFilterRules
    if (rules === null) return true
    const verdict = await ipFilterAccepts(rules, raw.remoteAddress ?? '')
    if (verdict.accepted) return true
    this.logger.warn(`${this.owner}: refused the connection from ${peer} (ipFilterRules: ` +
      `${verdict.rule})`)
    raw.destroy()
    return false
  }

  private secure(raw: net.Socket, peer: string, secureContext: tls.SecureContext)
    : Promise<tls.TLSSocket | null> {
    return new Promise((resolve) => {
      const socket = new tls.TLSSocket(raw, { isServer: true, secureContext })
      let secured = false
      socket.once('secure', () => {
        secured = true
        resolve(socket)
      })
      socket.on('error', (error) => {
        this.logger.warn(`${this.owner}: ${secured ? 'TLS connection' : 'TLS handshake'} ` +
          `with ${peer} failed: ${error.message}`)
        raw.destroy()
        resolve(null)
      })
      raw.once('close', () => resolve(null))
    })
  }
}
