/** Helpers for the agent tests: channel factories, a capturing logger, TCP and HTTP clients. */
import * as http from 'node:http'
import * as net from 'node:net'
import * as path from 'node:path'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { FileChannel, type FileChannelOptions } from '../../src/flow/channels/file-channel.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import type { FlowEvent, FlowLogger } from '../../src/flow/event.js'
import { inTransaction, type Channel } from '../../src/flow/transaction.js'

export interface CapturingLogger extends FlowLogger {
  lines: string[]
  warnings: string[]
}

export function capturingLogger(): CapturingLogger {
  const lines: string[] = []
  const warnings: string[] = []
  return {
    lines, warnings,
    info: (message) => lines.push(message),
    warn: (message) => warnings.push(message),
    error: (message) => warnings.push(message),
  }
}

export interface ChannelSpec {
  capacity: number
  transactionCapacity: number
  keepAliveSeconds: number
}

export type ChannelMaker = (name: string, spec: ChannelSpec) => Channel

export const memoryMaker: ChannelMaker = (name, spec) => new MemoryChannel(name, spec)

export function fileMaker(root: string, extra: Partial<FileChannelOptions> = {}): ChannelMaker {
  return (name, spec) => new FileChannel(name, {
    checkpointDir: path.join(root, name, 'checkpoint'), dataDirs: [path.join(root, name, 'data')],
    minimumRequiredSpace: 1024 * 1024, ...spec, ...extra,
  })
}

/**
 * The properties of the file channel `key` (say `a1.channels.c1`) keeping its checkpoint/ and
 * data/ in `dir`, as the crash tests run it: room for a whole run, 1000-event transactions, and
 * 1 MiB minimumRequiredSpace so a nearly full test disk does not refuse puts.
 */
export function fileChannelProperties(key: string, dir: string, capacity = 100_000): string {
  return [`${key}.type = file`, `${key}.checkpointDir = ${path.join(dir, 'checkpoint')}`,
    `${key}.dataDirs = ${path.join(dir, 'data')}`, `${key}.capacity = ${capacity}`,
    `${key}.transactionCapacity = 1000`, `${key}.minimumRequiredSpace = 1048576`].join('\n')
}

/** The properties of the HTTP source `key` (say `a1.sources.r1`): 127.0.0.1, a port the system
 * picks (the source logs it), putting to `channels`. */
export function httpSourceProperties(key: string, channels: string): string {
  return [`${key}.type = http`, `${key}.bind = 127.0.0.1`, `${key}.port = 0`,
    `${key}.channels = ${channels}`, ''].join('\n')
}

/**
 * The first lines of the agent `a1` the CLI tests run: source r1, an HTTP source putting to
 * channel c1, and sink k1. The test writes c1's and k1's properties after it.
 */
export const HTTP_AGENT_A1 = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
${httpSourceProperties('a1.sources.r1', 'c1')}`

export const event = (body: string, headers: Record<string, string> = {}): FlowEvent =>
  ({ headers, body: Buffer.from(body) })

export async function putAll(channel: Channel, bodies: string[]): Promise<void> {
  await inTransaction(channel, (tx) => bodies.forEach((body) => tx.put(event(body))))
}

/** Takes up to `max` events, and never more than a transaction holds, in one transaction. */
export async function takeEvents(channel: Channel, max: number): Promise<FlowEvent[]> {
  return inTransaction(channel, async (tx) => {
    const events: FlowEvent[] = []
    for (let i = 0; i < Math.min(max, channel.transactionCapacity); i++) {
      const taken = await tx.take()
      if (taken === null) break
      events.push(taken)
    }
    return events
  })
}

/** A processor that puts every event into `channel` alone (replicating, one required channel). */
export function processorFor(channel: Channel, logger: FlowLogger = capturingLogger())
  : ChannelProcessor {
  return new ChannelProcessor({ type: 'replicating', channels: [channel],
    required: () => [channel], optional: () => [] }, [], logger)
}

export async function takeAll(channel: Channel, max: number): Promise<string[]> {
  return inTransaction(channel, async (tx) => {
    const bodies: string[] = []
    for (let i = 0; i < max; i++) {
      const taken = await tx.take()
      if (taken === null) break
      bodies.push(taken.body.toString())
    }
    return bodies
  })
}

/** POSTs JSON events; resolves with the status code. */
export function postEvents(port: number, events: { headers?: Record<string, string>;
  body: string }[], agent?: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/',
      headers: { 'content-type': 'application/json' }, agent }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    request.on('error', reject)
    request.end(JSON.stringify(events))
  })
}

/**
 * POSTs batches of `eventsPerPost` numbered events (`${tag}-s<seq>-e<i>`) until `stop.dead`, as a
 * client of an agent about to be killed would; returns the bodies answered 200.
 */
export async function postUntilStopped(port: number, tag: string, stop: { dead: boolean },
  eventsPerPost: number): Promise<string[]> {
  const acked: string[] = []
  const agent = new http.Agent({ keepAlive: true })
  for (let seq = 0; !stop.dead; seq++) {
    const bodies = Array.from({ length: eventsPerPost }, (_, i) => `${tag}-s${seq}-e${i}`)
    const status = await postEvents(port, bodies.map((body) => ({ body })), agent)
      .catch(() => 0)
    if (status === 200) acked.push(...bodies)
  }
  agent.destroy()
  return acked
}

export function getText(port: number, urlPath: string, headers: Record<string, string> = {})
  : Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body,
        type: String(response.headers['content-type']) }))
    }).on('error', reject)
  })
}

/** A line-oriented TCP client: send lines, read reply lines. */
export class LineClient {
  private buffered = ''
  private readonly replies: string[] = []
  private waiters: (() => void)[] = []

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      const lines = this.buffered.split('\n')
      this.buffered = lines.pop()!
      this.replies.push(...lines)
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  static connect(port: number, host = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host, () => resolve(new LineClient(socket)))
      socket.once('error', reject)
    })
  }

  send(text: string): void {
    this.socket.write(text)
  }

  /** Waits (bounded) until `count` replies have arrived; returns them all. */
  async replyLines(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    while (this.replies.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${count} replies, got ${this.replies.length}`)
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
    return [...this.replies]
  }

  close(): void {
    this.socket.destroy()
  }
}
