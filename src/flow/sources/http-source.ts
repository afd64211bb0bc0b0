/**
 * Flume's HTTP source with its JSON handler (HTTPSource, JSONHandler; reference §2.1): a POST of
 * `[{"headers": {…}, "body": "text"}, …]` is one transaction. 200 means every event is
 * committed to every required channel (for the file channel: on disk); a malformed request is
 * 400; a channel that refused (full after keep-alive, or the batch too large) is 503, so the
 * client retries — Flume's backpressure. Other failures are 500.
 *
 * Bounds (sluice additions): a request body over maxRequestBytes is 413 before it is parsed, and
 * past maxConcurrentRequests in flight new requests get 503 at once, so memory stays bounded by
 * maxConcurrentRequests × maxRequestBytes however hard clients push.
 */
import * as http from 'node:http'
import { isSluiceError } from '../../errors.js'
import type { ChannelProcessor } from '../channel-processor.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { sourceCounter } from '../metrics/counters.js'
import type { EventDrivenSource } from './source.js'
import { listenServer } from '../listen.js'

export interface HttpSourceOptions {
  bind: string
  port: number
  maxRequestBytes: number
  maxConcurrentRequests: number
}

export const CHANNEL_FULL_REPLY = 'Error appending event to channel. Channel might be full. ' +
  'Consider increasing the channel capacity or make sure the sinks perform faster.'

class BadRequest extends Error {}

/** The JSON handler: an array of events, headers string → string, body text (UTF-8). */
export function parseJsonEvents(text: string): FlowEvent[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new BadRequest(`Request has invalid JSON Syntax: ${(error as Error).message}`)
  }
  if (!Array.isArray(parsed)) throw new BadRequest('the JSON handler expects an array of events')
  return parsed.map((item: unknown, i) => {
    if (item === null || typeof item !== 'object') {
      throw new BadRequest(`event ${i} is not an object`)
    }
    const { headers = {}, body = '' } = item as { headers?: unknown; body?: unknown }
    if (typeof body !== 'string') throw new BadRequest(`event ${i}: body must be a string`)
    if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
      throw new BadRequest(`event ${i}: headers must be an object`)
    }
    const clean: Record<string, string> = {}
    for (const [key, value] of Object.entries(headers)) clean[key] = String(value)
    return { headers: clean, body: Buffer.from(body, 'utf8') }
  })
}

export class HttpSource implements EventDrivenSource {
  readonly kind = 'event-driven'
  readonly type = 'http'
  readonly counter
  readonly batchSize = 0
  /** Instrumentation: called once a request's events are committed, before the 200. */
  onAccepted: ((events: FlowEvent[]) => void) | null = null
  private server: http.Server | null = null
  private readonly inFlight = new Set<Promise<void>>()

  constructor(readonly name: string, readonly processor: ChannelProcessor,
    private readonly options: HttpSourceOptions, private readonly logger: FlowLogger) {
    this.counter = sourceCounter(name)
  }

  get port(): number {
    const address = this.server?.address()
    return typeof address === 'object' && address !== null ? address.port : this.options.port
  }

  async start(): Promise<void> {
    const server = http.createServer((request, response) => {
      const handled = this.handle(request, response)
        .catch((error: unknown) => reply(response, 500, String(error)))
        .finally(() => this.inFlight.delete(handled))
      this.inFlight.add(handled)
    })
    server.keepAliveTimeout = 5000
    this.server = server
    await listenServer(server, this.options.port, this.options.bind, `source ${this.name}`)
    // After listen, a server error (EMFILE, say) is logged rather than crashing the agent.
    server.on('error', (error) => this.logger.error(`source ${this.name}: ${error.message}`))
    this.logger.info(`source ${this.name}: http listening on ${this.options.bind}:${this.port}`)
  }

  /** Stops accepting; requests in flight finish (commit, then reply) first. */
  async stop(): Promise<void> {
    const server = this.server
    this.server = null
    if (server === null) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeIdleConnections()
    await Promise.allSettled([...this.inFlight])
    server.closeAllConnections()
    await closed
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse)
    : Promise<void> {
    if (this.server === null) {
      // Stopping: refuse politely rather than reset; the client retries elsewhere or later.
      request.resume()
      response.setHeader('connection', 'close')
      return reply(response, 503, 'the agent is stopping')
    }
    if (request.method !== 'POST') {
      request.resume()
      return reply(response, 405, 'only POST is accepted')
    }
    if (this.inFlight.size >= this.options.maxConcurrentRequests) {
      request.resume()
      return reply(response, 503, CHANNEL_FULL_REPLY)
    }
    const text = await readBody(request, this.options.maxRequestBytes)
    if (text === null) return reply(response, 413, 'request body exceeds maxRequestBytes')
    let events: FlowEvent[]
    try {
      events = parseJsonEvents(text)
    } catch (error) {
      this.counter.add('EventReadFail')
      return reply(response, 400, (error as Error).message)
    }
    this.counter.add('AppendBatchReceivedCount')
    this.counter.add('EventReceivedCount', events.length)
    try {
      await this.processor.processEventBatch(events)
    } catch (error) {
      this.counter.add('ChannelWriteFail')
      if (isSluiceError(error, 'SLUICE_ERR_CHANNEL_FULL')
        || isSluiceError(error, 'SLUICE_ERR_CHANNEL')) {
        return reply(response, 503, CHANNEL_FULL_REPLY)
      }
      throw error
    }
    this.counter.add('AppendBatchAcceptedCount')
    this.counter.add('EventAcceptedCount', events.length)
    this.onAccepted?.(events)
    reply(response, 200, '')
  }
}

function reply(response: http.ServerResponse, status: number, message: string): void {
  if (response.headersSent) return
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  response.end(message)
}

/** The body as text, or null once it passes maxBytes (the rest is drained, not kept). */
function readBody(request: http.IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let tooLarge = false
    request.on('data', (chunk: Buffer) => {
      total += chunk.byteLength
      if (total > maxBytes) tooLarge = true
      if (!tooLarge) chunks.push(chunk)
    })
    request.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}
