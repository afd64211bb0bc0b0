/**
 * Helpers for the Kafka source and sink tests: a log reached either over TCP (a Sluice serving
 * the Kafka protocol on a free port, agents using kafkajs) or in-process (`embedded:<dir>`, the
 * shared embedded Sluice), agents built from Flume properties, and reads of what a group
 * committed.
 */
import { Sluice } from '../../src/client/sluice.js'
import { Agent } from '../../src/flow/agent.js'
import { acquireEmbeddedSluice } from '../../src/flow/kafka/embedded-sluice.js'
import type { RunnerTimings } from '../../src/flow/sink-runner.js'
import type { FlowEvent } from '../../src/flow/event.js'
import { inTransaction, type Channel } from '../../src/flow/transaction.js'
import type { KafkaBroker } from '../../src/kafka/index.js'
import { tempDir } from '../helpers.js'
import { capturingLogger, takeEvents, type CapturingLogger } from './flow-helpers.js'

/** Back-offs short enough for tests; the logic is Flume's, only the constants shrink. */
export const FAST_TIMINGS: RunnerTimings = {
  backoffSleepIncrementMs: 20, maxBackoffSleepMs: 100, errorSleepMs: 100,
}
export const FAST_SOURCE_BACKOFF = ['backoffSleepIncrement = 20', 'maxBackoffSleep = 100']

export type Transport = 'tcp' | 'embedded'

/** A log the agents reach by `servers`; `sluice` is the test's own handle on the same log. */
export interface TestLog {
  transport: Transport
  servers: string
  sluice: Sluice
  broker: KafkaBroker | null
  dir: string
  close(): Promise<void>
}

export async function openTestLog(transport: Transport): Promise<TestLog> {
  const { dir, remove } = tempDir(`sluice-kafka-flow-${transport}-`)
  if (transport === 'embedded') {
    const lease = acquireEmbeddedSluice(dir)
    return { transport, servers: `embedded:${dir}`, sluice: lease.sluice, broker: null, dir,
      async close() { await lease.release(); remove() } }
  }
  const sluice = new Sluice({ dataDir: dir, shards: 1 })
  const broker = await sluice.listen({ port: 0 })
  return { transport, servers: `127.0.0.1:${broker.port}`, sluice, broker, dir,
    async close() { await sluice.close(); remove() } }
}

export interface AgentUnderTest {
  agent: Agent
  logger: CapturingLogger
  channel: Channel
}

/** An agent from `a1.*` property lines; `c1` is its (first) channel. */
export async function startAgent(lines: string[]): Promise<AgentUnderTest> {
  const logger = capturingLogger()
  const agent = Agent.fromText(lines.join('\n'), 'kafka-test.conf',
    { agentName: 'a1', logger, runnerTimings: FAST_TIMINGS })
  await agent.start()
  return { agent, logger, channel: agent.graph.channels.get('c1')! }
}

export function memoryChannel(capacity: number, transactionCapacity: number,
  keepAliveSeconds = 0): string[] {
  return ['a1.channels = c1', 'a1.channels.c1.type = memory',
    `a1.channels.c1.capacity = ${capacity}`,
    `a1.channels.c1.transactionCapacity = ${transactionCapacity}`,
    `a1.channels.c1.keep-alive = ${keepAliveSeconds}`]
}

/** A source-only agent: kafka source r1 → c1, with `settings` as `key = value` lines. */
export function sourceAgentConf(servers: string, settings: string[], channel: string[])
  : string[] {
  return ['a1.sources = r1', ...channel,
    'a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource',
    'a1.sources.r1.channels = c1', `a1.sources.r1.kafka.bootstrap.servers = ${servers}`,
    ...[...FAST_SOURCE_BACKOFF, ...settings].map((line) => `a1.sources.r1.${line}`)]
}

/** A sink-only agent: c1 → kafka sink k1. */
export function sinkAgentConf(servers: string, settings: string[], channel: string[])
  : string[] {
  return ['a1.sinks = k1', ...channel,
    'a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink', 'a1.sinks.k1.channel = c1',
    `a1.sinks.k1.kafka.bootstrap.servers = ${servers}`,
    ...settings.map((line) => `a1.sinks.k1.${line}`)]
}

/** What `groupId` committed for partition 0 of `topic` (-1 when nothing). */
export async function committedOffset(sluice: Sluice, groupId: string, topic: string)
  : Promise<number> {
  const admin = sluice.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
    const partition = offsets.find((o) => o.topic === topic)?.partitions
      .find((p) => p.partition === 0)
    return Number(partition?.offset ?? -1)
  } finally {
    await admin.disconnect()
  }
}

export async function createTopic(sluice: Sluice, topic: string, partitions = 1): Promise<void> {
  const admin = sluice.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })
  await admin.disconnect()
}

export interface TakenEvent {
  body: string
  bytes: Buffer
  headers: Record<string, string>
}

/** Takes events (in transactions the channel allows) until `count` arrived; bounded wait. */
export async function drain(channel: Channel, count: number, timeoutMs = 30_000)
  : Promise<TakenEvent[]> {
  const taken: TakenEvent[] = []
  const deadline = Date.now() + timeoutMs
  while (taken.length < count) {
    const batch = await takeEvents(channel, count - taken.length)
    taken.push(...batch.map((event) => ({ body: event.body.toString(), bytes: event.body,
      headers: event.headers })))
    if (batch.length > 0) continue
    if (Date.now() > deadline) {
      throw new Error(`timed out with ${taken.length} of ${count} events from ${channel.name}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return taken
}

/** Puts the events into the channel, in transactions as large as the channel allows. */
export async function putEvents(channel: Channel, events: FlowEvent[]): Promise<void> {
  for (let start = 0; start < events.length; start += channel.transactionCapacity) {
    const slice = events.slice(start, start + channel.transactionCapacity)
    await inTransaction(channel, (tx) => slice.forEach((event) => tx.put(event)))
  }
}

export const range = (from: number, to: number, prefix = ''): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`)
