/**
 * The Flume paths beyond one agent's file_roll (issue 6), on the shared agent harness
 * (bench/scenarios/agent-harness.ts): HTTP posts enter agent A, whose http source's
 * acknowledgement starts each latency, and each ends at the last sink's write.
 *
 *   avro-hop   A (http → memory → avro sink) → B (avro source → memory → file_roll), both in
 *              this process on loopback: Flume's agent chaining over Avro RPC. A's take commits
 *              only once B answered OK (B's put committed), so the hop is in every figure.
 *   kafka-log  A (http → memory → kafka sink) → the embedded log (`embedded:<dir>`, no TCP) →
 *              B (kafka source → memory → file_roll). The log's topic keeps sluice's default
 *              durability (fsync), so A's produce waits for the disk: events/s sits beside
 *              seq-write + fdatasync.
 *   hdfs       http → memory → hdfs sink (DataStream text, never rolled), beside file_roll: the
 *              sink fdatasyncs every batch and its journal before it commits the take.
 *
 * The avro hop's ceiling is memcpy (nothing on it touches the disk). The Kafka source keeps
 * Flume's defaults but reads from the earliest offset (its group is new each case, and the
 * priming event may be produced before the group has joined).
 */
import { mkdirSync, rmSync } from 'node:fs'
import * as path from 'node:path'
import { TOPIC_DEFAULTS } from '../../src/engine/topic-config.js'
import type { Agent } from '../../src/flow/agent.js'
import {
  acquireEmbeddedSluice, EMBEDDED_PREFIX, type EmbeddedSluiceLease,
} from '../../src/flow/kafka/embedded-sluice.js'
import type { BatchSink } from '../../src/flow/sinks/sink.js'
import type { AvroSource } from '../../src/flow/sources/avro-source.js'
import type { HttpSource } from '../../src/flow/sources/http-source.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, sizeLabel } from '../limits/cpu.js'
import { findLimit } from '../limits/index.js'
import type { Limit, ParamValue, ScenarioResult } from '../results.js'
import {
  avroSink, avroSource, fileRollSink, hdfsDataStreamSink, httpSource, memoryChannel,
  SINK_BATCH_EVENTS, startBenchAgent, type Properties,
} from './agent-conf.js'
import { measurePath, pathResult, type AgentPhase } from './agent-harness.js'

export type AgentPathKind = 'avro-hop' | 'kafka-log' | 'hdfs'

export interface AgentPathCase {
  path: AgentPathKind
  eventBytes: number
}

const KAFKA_TOPIC = 'bench-agent-path'
const KAFKA_GROUP = 'bench-agent-path'

export function agentPathCaseName(c: AgentPathCase): string {
  const size = sizeLabel(c.eventBytes)
  return c.path === 'hdfs' ? `agent/http/memory/hdfs/${size}`
    : `agent/${c.path}/http/memory/file_roll/${size}`
}

/**
 * The started agents, in the order they stop (ingress first), what else the case holds (the
 * log's lease, given back last), and the path's two ends.
 */
interface StartedPath {
  agents: Agent[]
  lease?: EmbeddedSluiceLease
  ingress: HttpSource
  egress: BatchSink
  params: Record<string, ParamValue>
  limit: Limit
}

const sourceOf = (agent: Agent) => agent.graph.sources.get('r1')!
const sinkOf = (agent: Agent) => agent.graph.sinks.get('k1') as BatchSink

/** Starts the far agent first, then the agent in front of it (which may need its port). */
async function chain(far: Properties, near: (farAgent: Agent) => Properties, dir: string)
  : Promise<{ a: Agent; b: Agent }> {
  const b = await startBenchAgent('b', { source: far, channel: memoryChannel(),
    sink: fileRollSink(dir) })
  try {
    const a = await startBenchAgent('a', { source: httpSource(), channel: memoryChannel(),
      sink: near(b) })
    return { a, b }
  } catch (error) {
    await b.stop()
    throw error
  }
}

/**
 * The embedded log with the case's topic made before any agent starts, as a deployment makes
 * its topics: left to the sink's first produce, creation races the consumer's subscription
 * (that produce can fail with "partition … is not open", and the runner then sleeps Flume's
 * 5 s error back-off before the path delivers at all).
 */
async function logWithTopic(logDir: string): Promise<EmbeddedSluiceLease> {
  const lease = acquireEmbeddedSluice(logDir)
  const admin = lease.sluice.admin()
  try {
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: KAFKA_TOPIC, numPartitions: 1 }] })
    await admin.disconnect()
    return lease
  } catch (error) {
    await lease.release()
    throw error
  }
}

async function startPath(c: AgentPathCase, dir: string, limits: Limit[]): Promise<StartedPath> {
  switch (c.path) {
    case 'avro-hop': {
      const { a, b } = await chain(avroSource(),
        (far) => avroSink((sourceOf(far) as AvroSource).port), dir)
      return { agents: [a, b], ingress: sourceOf(a) as HttpSource, egress: sinkOf(b),
        params: { path: 'http → memory → avro ⇒ avro → memory → file_roll', hop: 'avro RPC',
          batchEvents: SINK_BATCH_EVENTS }, limit: findLimit(limits, MEMCPY_LIMIT) }
    }
    case 'kafka-log': {
      const lease = await logWithTopic(`${dir}/log`)
      const servers = `${EMBEDDED_PREFIX}${lease.dataDir}`
      const { a, b } = await chain({ type: 'kafka', 'kafka.bootstrap.servers': servers,
        'kafka.topics': KAFKA_TOPIC, 'kafka.consumer.group.id': KAFKA_GROUP,
        batchSize: SINK_BATCH_EVENTS, 'kafka.consumer.auto.offset.reset': 'earliest' },
      () => ({ type: 'kafka', 'kafka.bootstrap.servers': servers, 'kafka.topic': KAFKA_TOPIC,
        flumeBatchSize: SINK_BATCH_EVENTS }), dir).catch(async (error: unknown) => {
        await lease.release()
        throw error
      })
      const durability = TOPIC_DEFAULTS.durability
      return { agents: [a, b], lease, ingress: sourceOf(a) as HttpSource, egress: sinkOf(b),
        params: { path: 'http → memory → kafka ⇒ log ⇒ kafka → memory → file_roll',
          hop: 'embedded log (in-process)', logDurability: durability,
          batchEvents: SINK_BATCH_EVENTS },
        limit: findLimit(limits, durability === 'fsync' ? DISK_LIMIT_NAMES.writeSync
          : MEMCPY_LIMIT) }
    }
    case 'hdfs': {
      const a = await startBenchAgent('a', { source: httpSource(), channel: memoryChannel(),
        sink: hdfsDataStreamSink(dir) })
      return { agents: [a], ingress: sourceOf(a) as HttpSource, egress: sinkOf(a),
        params: { path: 'http → memory → hdfs', fileType: 'DataStream',
          batchEvents: SINK_BATCH_EVENTS }, limit: findLimit(limits, DISK_LIMIT_NAMES.writeSync) }
    }
  }
}

async function runAgentPathCase(c: AgentPathCase, phase: AgentPhase, dir: string,
  limits: Limit[]): Promise<ScenarioResult> {
  mkdirSync(dir, { recursive: true })
  try {
    const started = await startPath(c, dir, limits)
    try {
      const measured = await measurePath({ ingressKind: 'http', ingress: started.ingress,
        egress: started.egress }, c.eventBytes, phase)
      return pathResult({ name: agentPathCaseName(c), eventBytes: c.eventBytes,
        params: started.params, limit: started.limit,
        latencyFrom: `A's http acknowledgement (put committed) to the last sink's write` },
      phase, measured)
    } finally {
      for (const agent of started.agents) await agent.stop()
      await started.lease?.release()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function runAgentPathScenarios(cases: readonly AgentPathCase[],
  phase: AgentPhase, dataRoot: string, limits: Limit[], onCase: (name: string) => void)
  : Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = []
  for (const [i, c] of cases.entries()) {
    onCase(agentPathCaseName(c))
    results.push(await runAgentPathCase(c, phase, path.join(dataRoot, `path-${i}`), limits))
  }
  return results
}
