/**
 * Agents end to end: an `http | netcat → memory | file channel → file_roll` agent (Flume's own
 * properties, embedded in this process) fed by clients posting Flume JSON batches over HTTP or
 * writing lines over TCP (netcat, batchSize 100, one OK per line).
 *
 *   throughput  closed loop: `clients` clients each send `eventsPerPost` events and wait for the
 *               answer; events/s is what the sink wrote during measureMs (after a warm-up).
 *   latency     open loop at a fixed offered rate (posts go out on schedule whether or not
 *               earlier ones were answered), per event from the source's acknowledgement (its
 *               put commit done, just before the 200) to the sink's write (file_roll's writev
 *               returned), in an HDR histogram. Both ends are on this process's clock.
 *
 * For the file channel the acknowledgement waits for the fsync (group-committed), so its events/s
 * sits beside the disk's `seq-write + fdatasync` limit; the memory channel beside memcpy. The
 * load generator shares the two cores with the agent, which the figures include.
 *
 * Run: `sluice bench --scenario agent` (also part of the quick set); cases come from agentPlan()
 * in bench/plan.ts, and bench/runner.ts writes the results with everything else's.
 */
import { mkdirSync, rmSync } from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as path from 'node:path'
import type { Histogram } from 'hdr-histogram-js'
import { Agent } from '../../src/flow/agent.js'
import { silentLogger, type FlowEvent } from '../../src/flow/event.js'
import type { BatchSink } from '../../src/flow/sinks/sink.js'
import type { HttpSource } from '../../src/flow/sources/http-source.js'
import type { NetcatSource } from '../../src/flow/sources/netcat-source.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import {
  curveOf, latencyHistogram, megabytesPerSec, nowMs, percentilesOf, perSec, recordMicros,
} from '../measure.js'
import { figure, type Limit, type ScenarioResult } from '../results.js'

export interface AgentCase {
  source: 'http' | 'netcat'
  channel: 'memory' | 'file'
  eventBytes: number
}

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

const ID_DIGITS = 12

export function agentCaseName(c: AgentCase): string {
  return `agent/${c.source}/${c.channel}/file_roll/${sizeLabel(c.eventBytes)}`
}

function agentConf(c: AgentCase, dir: string): string {
  const channel = c.channel === 'memory'
    ? ['a1.channels.c1.type = memory', 'a1.channels.c1.byteCapacity = 1073741824']
    : ['a1.channels.c1.type = file', `a1.channels.c1.checkpointDir = ${dir}/checkpoint`,
      `a1.channels.c1.dataDirs = ${dir}/data`, 'a1.channels.c1.minimumRequiredSpace = 1048576']
  const source = c.source === 'http' ? ['a1.sources.r1.type = http']
    : ['a1.sources.r1.type = netcat', 'a1.sources.r1.batchSize = 100',
      `a1.sources.r1.max-line-length = ${c.eventBytes + 2}`]
  return ['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1', ...source,
    'a1.sources.r1.bind = 127.0.0.1', 'a1.sources.r1.port = 0',
    'a1.sources.r1.channels = c1', ...channel, 'a1.channels.c1.capacity = 200000',
    'a1.channels.c1.transactionCapacity = 1000', 'a1.sinks.k1.type = file_roll',
    'a1.sinks.k1.channel = c1', `a1.sinks.k1.sink.directory = ${dir}/out`,
    'a1.sinks.k1.sink.rollInterval = 0', 'a1.sinks.k1.sink.batchSize = 1000'].join('\n')
}

/** Measures one agent: which events were acknowledged when, and when the sink wrote them. */
class Probe {
  private readonly ackedAtMs: number[] = []
  private nextId = 0
  delivered = 0
  histogram: Histogram | null = null
  countFromMs = Infinity
  countedInWindow = 0

  constructor(private readonly eventBytes: number) {}

  body(): string {
    const id = String(this.nextId++).padStart(ID_DIGITS, '0')
    return id + 'x'.repeat(Math.max(0, this.eventBytes - ID_DIGITS))
  }

  get issued(): number {
    return this.nextId
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

async function drain(probe: Probe, acceptedCount: () => number, timeoutMs: number)
  : Promise<void> {
  const deadline = nowMs() + timeoutMs
  while (probe.delivered < acceptedCount() && nowMs() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

async function runAgentCase(c: AgentCase, phase: AgentPhase, dir: string, limits: Limit[])
  : Promise<ScenarioResult> {
  mkdirSync(dir, { recursive: true })
  const agent = Agent.fromText(agentConf(c, dir), 'bench-agent.conf',
    { agentName: 'a1', logger: silentLogger })
  await agent.start()
  const source = agent.graph.sources.get('r1') as HttpSource | NetcatSource
  const sink = agent.graph.sinks.get('k1') as BatchSink
  const probe = new Probe(c.eventBytes)
  source.onAccepted = (events) => probe.accepted(events)
  sink.onDelivered = (events) => probe.written(events)
  const accepted = () => source.counter.get('EventAcceptedCount')
  const sender = c.source === 'http' ? httpSender(source.port, 64)
    : await netcatSender(source.port, phase.clients)
  try {
    const refusedClosed = await closedLoop(probe, sender, phase)
    const eventsPerSec = perSec(probe.countedInWindow, phase.measureMs)
    await drain(probe, accepted, phase.drainTimeoutMs)
    probe.histogram = latencyHistogram()
    const before = probe.delivered
    const refusedOpen = await openLoop(probe, sender, phase)
    await drain(probe, accepted, phase.drainTimeoutMs)
    return report(c, phase, limits, { eventsPerSec, histogram: probe.histogram,
      latencyEvents: probe.delivered - before, refusedClosed, refusedOpen })
  } finally {
    sender.close()
    await agent.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

interface Measured {
  eventsPerSec: number
  histogram: Histogram
  latencyEvents: number
  refusedClosed: number
  refusedOpen: number
}

function report(c: AgentCase, phase: AgentPhase, limits: Limit[], m: Measured)
  : ScenarioResult {
  const limit = findLimit(limits, c.channel === 'file' ? DISK_LIMIT_NAMES.writeSync
    : MEMCPY_LIMIT)
  const p = percentilesOf(m.histogram)
  return {
    name: agentCaseName(c),
    kind: 'latency',
    params: { source: c.source, channel: c.channel, sink: 'file_roll', eventBytes: c.eventBytes,
      clients: phase.clients, eventsPerPost: phase.eventsPerPost, measureMs: phase.measureMs,
      latencyRatePerSec: phase.latencyRatePerSec, latencyEventsPerPost: phase.latencyEventsPerPost,
      latencyFrom: "source acknowledgement (put committed) to the sink's write" },
    figures: [
      figure('events/s', m.eventsPerSec, 'events/s'),
      figure('payload MB/s', megabytesPerSec(m.eventsPerSec * c.eventBytes, 1000), 'MB/s', limit),
      figure(`ack → write p50 @ ${phase.latencyRatePerSec}/s`, p.p50, 'µs'),
      figure(`ack → write p99 @ ${phase.latencyRatePerSec}/s`, p.p99, 'µs'),
      figure(`ack → write p99.9 @ ${phase.latencyRatePerSec}/s`, p.p999, 'µs'),
      figure(`ack → write max @ ${phase.latencyRatePerSec}/s`, p.max, 'µs'),
    ],
    latency: [{ mode: 'push', offeredRatePerSec: phase.latencyRatePerSec,
      achievedRatePerSec: perSec(m.latencyEvents, phase.latencyMeasureMs),
      records: m.histogram.totalCount, percentilesUs: p, curve: curveOf(m.histogram) }],
    notes: [`closed loop: ${m.refusedClosed} batches refused (503 / FAILED); open loop: ` +
      `${m.refusedOpen}`],
  }
}

export async function runAgentScenarios(cases: readonly AgentCase[], phase: AgentPhase,
  dataRoot: string, limits: Limit[], onCase: (name: string) => void)
  : Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const [i, c] of cases.entries()) {
    onCase(agentCaseName(c))
    results.push(await runAgentCase(c, phase, path.join(dataRoot, `agent-${i}`), limits))
  }
  return results
}
