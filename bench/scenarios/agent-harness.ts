/**
 * The harness every agent case shares: a load generator that posts Flume JSON batches over HTTP
 * (or lines over TCP to netcat) into the path's first source, and a probe on the path's last
 * sink. The path between them is the case's business: one agent (bench/scenarios/agent.ts) or
 * agents chained over Avro RPC or a Kafka log (bench/scenarios/agent-paths.ts).
 *
 *   priming     one post, waited for at the far end, before anything is timed: the first
 *               connection of an avro sink and a Kafka consumer's group join are set-up, not
 *               throughput;
 *   throughput  closed loop: `clients` clients each send `eventsPerPost` events and wait for the
 *               answer; events/s is what the last sink wrote during measureMs (after a warm-up);
 *   latency     open loop at a fixed offered rate (posts go out on schedule whether or not
 *               earlier ones were answered), per event from the first source's acknowledgement
 *               (its put commit done, just before the 200 / OK) to the last sink's write (its
 *               deliver() returned), in an HDR histogram. Both ends are on this process's clock.
 *
 * Each event carries its id in its first ID_DIGITS bytes, which every hop here keeps (the body
 * travels unchanged through avro and kafka), so the probe matches the two ends.
 */
import * as http from 'node:http'
import * as net from 'node:net'
import type { Histogram } from 'hdr-histogram-js'
import { SluiceError } from '../../src/errors.js'
import type { FlowEvent } from '../../src/flow/event.js'
import type { BatchSink } from '../../src/flow/sinks/sink.js'
import type { HttpSource } from '../../src/flow/sources/http-source.js'
import type { NetcatSource } from '../../src/flow/sources/netcat-source.js'
import {
  curveOf, latencyHistogram, megabytesPerSec, nowMs, percentilesOf, perSec, recordMicros,
} from '../measure.js'
import { figure, type Limit, type ParamValue, type ScenarioResult } from '../results.js'
import { percentileFigures } from './open-loop.js'

export interface AgentPhase {
  warmupMs: number
  measureMs: number
  clients: number
  eventsPerPost: number
  /** Offered events/s of the open-loop latency phase, in posts of latencyEventsPerPost. */
  latencyRatePerSec: number
  latencyEventsPerPost: number
  latencyMeasureMs: number
  drainTimeoutMs: number
}

export type IngressKind = 'http' | 'netcat'

/** What the harness drives: where events enter (and are acknowledged) and where they land. */
export interface PathUnderTest {
  ingressKind: IngressKind
  ingress: HttpSource | NetcatSource
  egress: BatchSink
}

const ID_DIGITS = 12
/** Concurrent HTTP connections of the load generator (posts in flight at most). */
const HTTP_MAX_SOCKETS = 64

/** Which events were acknowledged when, and when the last sink wrote them. */
class Probe {
  private readonly ackedAtMs: number[] = []
  private nextId = 0
  delivered = 0
  histogram: Histogram | null = null
  countFromMs = Infinity
  countedInWindow = 0

  /** What follows the id in every body: built once, not per event on the generator's thread. */
  private readonly padding: string

  constructor(eventBytes: number) {
    this.padding = 'x'.repeat(Math.max(0, eventBytes - ID_DIGITS))
  }

  body(): string {
    return String(this.nextId++).padStart(ID_DIGITS, '0') + this.padding
  }

  accepted(events: FlowEvent[]): void {
    const at = nowMs()
    for (const event of events) this.ackedAtMs[idOf(event)] = at
  }

  written(events: FlowEvent[]): void {
    const at = nowMs()
    this.delivered += events.length
    if (at >= this.countFromMs) this.countedInWindow += events.length
    const histogram = this.histogram
    if (histogram === null) return
    for (const event of events) {
      const acked = this.ackedAtMs[idOf(event)]
      if (acked !== undefined) recordMicros(histogram, (at - acked) * 1000)
    }
  }
}

function idOf(event: FlowEvent): number {
  return Number(event.body.toString('latin1', 0, ID_DIGITS))
}

/** How the load generator hands bodies to the source; true when every one was accepted. */
interface Sender {
  send(bodies: string[]): Promise<boolean>
  close(): void
}

function httpSender(port: number, maxSockets: number): Sender {
  const agent = new http.Agent({ keepAlive: true, maxSockets })
  return {
    send: (bodies) => new Promise((resolve) => {
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent,
        headers: { 'content-type': 'application/json' } }, (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode === 200))
      })
      request.on('error', () => resolve(false))
      request.end(JSON.stringify(bodies.map((body) => ({ body }))))
    }),
    close: () => agent.destroy(),
  }
}

/** Lines over a few TCP connections; replies come back in order, one per line. */
async function netcatSender(port: number, connections: number): Promise<Sender> {
  const sockets = await Promise.all(Array.from({ length: connections }, () =>
    new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(socket))
      socket.once('error', reject)
    })))
  const waiting = sockets.map((socket) => {
    const queue: { left: number; ok: boolean; resolve: (ok: boolean) => void }[] = []
    let pending = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const head = queue[0]!
        head.ok &&= line === 'OK'
        if (--head.left === 0) queue.shift()!.resolve(head.ok)
      }
    })
    return queue
  })
  let next = 0
  return {
    send: (bodies) => new Promise((resolve) => {
      const at = next++ % sockets.length
      waiting[at]!.push({ left: bodies.length, ok: true, resolve })
      sockets[at]!.write(`${bodies.join('\n')}\n`)
    }),
    close: () => sockets.forEach((socket) => socket.destroy()),
  }
}

const batchOf = (probe: Probe, count: number) => Array.from({ length: count }, () => probe.body())

async function closedLoop(probe: Probe, sender: Sender, phase: AgentPhase): Promise<number> {
  const stopAt = nowMs() + phase.warmupMs + phase.measureMs
  probe.countFromMs = nowMs() + phase.warmupMs
  let refused = 0
  await Promise.all(Array.from({ length: phase.clients }, async () => {
    while (nowMs() < stopAt) {
      if (!await sender.send(batchOf(probe, phase.eventsPerPost))) refused++
    }
  }))
  probe.countFromMs = Infinity
  return refused
}

async function openLoop(probe: Probe, sender: Sender, phase: AgentPhase): Promise<number> {
  const intervalMs = (phase.latencyEventsPerPost / phase.latencyRatePerSec) * 1000
  const startMs = nowMs()
  const sends: Promise<boolean>[] = []
  for (let i = 0; startMs + i * intervalMs < startMs + phase.latencyMeasureMs;) {
    while (startMs + i * intervalMs <= nowMs()) {
      sends.push(sender.send(batchOf(probe, phase.latencyEventsPerPost)))
      i++
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  return (await Promise.all(sends)).filter((ok) => !ok).length
}

/** Waits until the last sink wrote every acknowledged event, or the timeout; true if it did. */
async function drain(probe: Probe, acceptedCount: () => number, timeoutMs: number)
  : Promise<boolean> {
  const deadline = nowMs() + timeoutMs
  while (probe.delivered < acceptedCount() && nowMs() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return probe.delivered >= acceptedCount()
}

export interface Measured {
  eventsPerSec: number
  histogram: Histogram
  latencyEvents: number
  refusedClosed: number
  refusedOpen: number
  /** Over the whole case, priming included: what the first source acknowledged … */
  acknowledged: number
  /** … and what the last sink wrote (more than acknowledged only through redelivery). */
  written: number
}

/** Primes, then runs the closed and the open loop through `path`; the caller stops the path. */
export async function measurePath(path: PathUnderTest, eventBytes: number, phase: AgentPhase)
  : Promise<Measured> {
  const probe = new Probe(eventBytes)
  path.ingress.onAccepted = (events) => probe.accepted(events)
  path.egress.onDelivered = (events) => probe.written(events)
  const accepted = () => path.ingress.counter.get('EventAcceptedCount')
  const sender = path.ingressKind === 'http' ? httpSender(path.ingress.port, HTTP_MAX_SOCKETS)
    : await netcatSender(path.ingress.port, phase.clients)
  try {
    if (!await sender.send(batchOf(probe, 1))
      || !await drain(probe, accepted, phase.drainTimeoutMs)) {
      throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `bench: the priming event did not ` +
        `reach sink ${path.egress.name} within ${phase.drainTimeoutMs} ms (refused, or the ` +
        'path between source and sink is not delivering)')
    }
    const refusedClosed = await closedLoop(probe, sender, phase)
    const eventsPerSec = perSec(probe.countedInWindow, phase.measureMs)
    await drain(probe, accepted, phase.drainTimeoutMs)
    probe.histogram = latencyHistogram()
    const before = probe.delivered
    const refusedOpen = await openLoop(probe, sender, phase)
    await drain(probe, accepted, phase.drainTimeoutMs)
    return { eventsPerSec, histogram: probe.histogram, latencyEvents: probe.delivered - before,
      refusedClosed, refusedOpen, acknowledged: accepted(), written: probe.delivered }
  } finally {
    sender.close()
  }
}

/** What a case reports beside the harness's figures: its name, its shape, its ceiling. */
export interface PathReport {
  name: string
  params: Record<string, ParamValue>
  eventBytes: number
  /** The ceiling of the slowest stage: the disk when something on the path fsyncs. */
  limit: Limit
  latencyFrom: string
}

export function pathResult(r: PathReport, phase: AgentPhase, m: Measured): ScenarioResult {
  const p = percentilesOf(m.histogram)
  const rate = phase.latencyRatePerSec
  return {
    name: r.name,
    kind: 'latency',
    params: { ...r.params, eventBytes: r.eventBytes, clients: phase.clients,
      eventsPerPost: phase.eventsPerPost, measureMs: phase.measureMs, latencyRatePerSec: rate,
      latencyEventsPerPost: phase.latencyEventsPerPost, latencyFrom: r.latencyFrom },
    figures: [
      figure('events/s', m.eventsPerSec, 'events/s'),
      figure('payload MB/s', megabytesPerSec(m.eventsPerSec * r.eventBytes, 1000), 'MB/s',
        r.limit),
      ...percentileFigures('ack → write', rate, p),
      figure('events acknowledged', m.acknowledged, 'events'),
      figure('events written', m.written, 'events'),
    ],
    latency: [{ mode: 'push', offeredRatePerSec: rate,
      achievedRatePerSec: perSec(m.latencyEvents, phase.latencyMeasureMs),
      records: m.histogram.totalCount, percentilesUs: p, curve: curveOf(m.histogram) }],
    notes: [`closed loop: ${m.refusedClosed} batches refused (503 / FAILED); open loop: ` +
      `${m.refusedOpen}`],
  }
}
