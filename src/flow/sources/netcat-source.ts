/**
 * Flume's netcat source (NetcatSource, reference §2.1): a TCP server that turns each `\n`-ended
 * line into an event (the body keeps a `\r` if the client sent one, as Flume does) and answers
 * `OK\n` per event (`ack-every-event`), or `FAILED: <reason>\n` when the channel refused it. As in
 * Flume, FAILED is written whatever `ack-every-event` says: that setting silences OKs only.
 *
 * Backpressure, both ways:
 *   - reading: a connection's socket is paused while its lines are being committed, so a client
 *     faster than the channel fills its TCP window and blocks instead of growing our memory; a
 *     full channel (after keep-alive) answers FAILED and the client must resend.
 *   - replies: a client that does not read its replies stops being read. Once socket.write()
 *     reports a full write buffer, no further batch is committed and the socket is not resumed
 *     until 'drain', so the replies held per connection stay within the socket's
 *     writableHighWaterMark + the replies of one batch (batchSize lines).
 * Per connection at most max-line-length + one socket chunk of input is buffered. `batchSize`
 * (a sluice addition, default 1 = Flume's one event per commit) lets the lines already received
 * share one commit.
 */
import * as net from 'node:net'
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { sourceCounter } from '../metrics/counters.js'
import type { EventDrivenSource } from './source.js'
import { listenServer } from '../listen.js'

export interface NetcatOptions {
  bind: string
  port: number
  maxLineLengthBytes: number
  ackEveryEvent: boolean
  batchSize: number
}

export class NetcatSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'netcat'
  readonly counter
  /** Instrumentation: called once a batch of lines is committed, before the OKs (the bench). */
  onAccepted: ((events: FlowEvent[]) => void) | null = null
  private server: net.Server | null = null
  private readonly connections = new Map<net.Socket, Promise<void>>()
  /** Connections not read because their replies wait for 'drain'; each maps to its wake-up. */
  private readonly blockedOnReplies = new Map<net.Socket, () => void>()
  private stopping = false

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: NetcatOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
  }

  get batchSize(): number {
    return this.options.batchSize
  }

  /** The port actually bound (port 0 picks a free one). */
  get port(): number {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : this.options.port
  }

  /** Instrumentation: connections held back by unread replies, and the reply bytes queued. */
  replyBacklog(): { blockedConnections: number; bufferedReplyBytes: number } {
    let bufferedReplyBytes = 0
    for (const socket of this.connections.keys()) bufferedReplyBytes += socket.writableLength
    return { blockedConnections: this.blockedOnReplies.size, bufferedReplyBytes }
  }

  async start(): Promise<void> {
    this.stopping = false
    const server = net.createServer((socket) => this.accept(socket))
    this.server = server
    await listenServer(server, this.options.port, this.options.bind, `source ${this.name}`)
    // After listen, a server error (EMFILE, say) is logged rather than crashing the agent.
    server.on('error', (error) => this.logger.error(`source ${this.name}: ${error.message}`))
    this.logger.info(`source ${this.name}: netcat listening on ${this.options.bind}:${this.port}`)
  }

  async stop(): Promise<void> {
    this.stopping = true
    // A client that never reads would hold its 'drain' wait, and so stop(), forever.
    for (const wake of this.blockedOnReplies.values()) wake()
    const server = this.server
    this.server = null
    const closed = server === null ? Promise.resolve()
      : new Promise<void>((resolve) => server.close(() => resolve()))
    for (const [socket, draining] of this.connections) {
      socket.pause()
      void draining.then(() => socket.end())
    }
    await Promise.all(this.connections.values())
    for (const socket of this.connections.keys()) socket.destroy()
    await closed
  }

  private accept(socket: net.Socket): void {
    this.counter.add('OpenConnectionCount')
    let pending: Buffer = Buffer.alloc(0)
    let skipping = false
    let draining: Promise<void> = Promise.resolve()
    this.connections.set(socket, draining)
    socket.on('data', (chunk: Buffer) => {
      socket.pause()
      pending = pending.byteLength === 0 ? chunk : Buffer.concat([pending, chunk])
      draining = draining.then(async () => {
        const lines: (Buffer | null)[] = []
        ;({ pending, skipping } = this.splitLines(pending, skipping, lines))
        await this.commitLines(socket, lines)
        await this.repliesDrained(socket)
        if (!this.stopping && !socket.destroyed) socket.resume()
      })
      this.connections.set(socket, draining)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      this.counter.add('OpenConnectionCount', -1)
      this.connections.delete(socket)
    })
  }

  /** Cuts complete lines off `pending`; an over-long line becomes null (answered FAILED). */
  private splitLines(buffered: Buffer, skippingLine: boolean, lines: (Buffer | null)[])
    : { pending: Buffer; skipping: boolean } {
    let pending = buffered
    let skipping = skippingLine
    const limit = this.options.maxLineLengthBytes
    for (;;) {
      const newline = pending.indexOf(0x0a)
      if (newline < 0) {
        if (!skipping && pending.byteLength >= limit) {
          lines.push(null)
          skipping = true
        }
        if (skipping) pending = Buffer.alloc(0)
        return { pending, skipping }
      }
      if (!skipping && newline + 1 > limit) lines.push(null)
      else if (!skipping) lines.push(Buffer.from(pending.subarray(0, newline)))
      skipping = false
      pending = pending.subarray(newline + 1)
    }
  }

  /**
   * Resolves once the socket's write buffer is below its high-water mark (at once if it is),
   * or when the socket closes or the source stops: the caller must not read or commit more.
   */
  private repliesDrained(socket: net.Socket): Promise<void> {
    if (!socket.writableNeedDrain || socket.destroyed || this.stopping) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        socket.off('drain', wake)
        socket.off('close', wake)
        this.blockedOnReplies.delete(socket)
        resolve()
      }
      this.blockedOnReplies.set(socket, wake)
      socket.on('drain', wake)
      socket.on('close', wake)
    })
  }

  private refuseLongLine(socket: net.Socket): void {
    this.counter.add('EventReadFail')
    if (socket.destroyed) return
    socket.write(`FAILED: Event exceeds the maximum length ` +
      `(${this.options.maxLineLengthBytes} chars, including newline)\n`)
  }

  /** Commits the lines in order, batchSize at a time; replies keep the lines' order. */
  private async commitLines(socket: net.Socket, lines: (Buffer | null)[]): Promise<void> {
    let start = 0
    while (start < lines.length) {
      // Stopping: lines not yet committed were never acknowledged; the client resends them.
      if (this.stopping) break
      // Replies not yet taken by the client: commit nothing more until they drain.
      await this.repliesDrained(socket)
      if (this.stopping) break
      if (lines[start] === null) {
        this.refuseLongLine(socket)
        start++
        continue
      }
      const batch: Buffer[] = []
      while (lines[start] != null && batch.length < this.options.batchSize) {
        batch.push(lines[start++]!)
      }
      await this.commitBatch(socket, batch)
    }
  }

  private async commitBatch(socket: net.Socket, batch: Buffer[]): Promise<void> {
    this.counter.add('EventReceivedCount', batch.length)
    let reply: string
    try {
      const events = batch.map((body) => ({ headers: {}, body }))
      await this.processor.processEventBatch(events)
      this.counter.add('EventAcceptedCount', batch.length)
      this.onAccepted?.(events)
      reply = 'OK\n'
    } catch (error) {
      this.counter.add('ChannelWriteFail')
      this.logger.warn(`source ${this.name}: Error processing ${batch.length} events: ` +
        (error as Error).message)
      reply = `FAILED: ${(error as Error).message}\n`
    }
    // Flume's NetcatSource: ack-every-event silences OK only; a refusal is always answered.
    const answer = this.options.ackEveryEvent || reply !== 'OK\n'
    if (answer && !socket.destroyed) socket.write(reply.repeat(batch.length))
  }
}
