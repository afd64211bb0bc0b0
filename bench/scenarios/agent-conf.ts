/**
 * The bench agents' properties, in Flume's own keys: every agent here is one flow
 * `r1 → c1 → k1`, and each case picks its source, channel and sink from the blocks below, so a
 * setting (a capacity, a batch size) is written once for every case that uses it.
 */
import { Agent } from '../../src/flow/agent.js'
import { silentLogger } from '../../src/flow/event.js'

export type Properties = Record<string, string | number>

/** Large enough that the closed loop measures the path, not a full channel's refusals. */
const CHANNEL_CAPACITY_EVENTS = 200_000
const CHANNEL_BYTE_CAPACITY = 1024 * 1024 * 1024
/** The channels' transactionCapacity, and the batch every sink takes and writes at most. */
export const SINK_BATCH_EVENTS = 1000
/** The file channel's free-space floor, small so scratch space on a small VM suffices. */
const FILE_CHANNEL_MIN_FREE_BYTES = 1024 * 1024
/** Netcat's batch: lines put into the channel per transaction. */
const NETCAT_BATCH_LINES = 100

export const httpSource = (): Properties => ({ type: 'http', bind: '127.0.0.1', port: 0 })

/** Netcat with room for one event's body and its newline. */
export const netcatSource = (eventBytes: number): Properties => ({ type: 'netcat',
  bind: '127.0.0.1', port: 0, batchSize: NETCAT_BATCH_LINES,
  'max-line-length': eventBytes + 2 })

export const avroSource = (): Properties => ({ type: 'avro', bind: '127.0.0.1', port: 0 })

export const memoryChannel = (): Properties => ({ type: 'memory',
  byteCapacity: CHANNEL_BYTE_CAPACITY })

export const fileChannel = (dir: string): Properties => ({ type: 'file',
  checkpointDir: `${dir}/checkpoint`, dataDirs: `${dir}/data`,
  minimumRequiredSpace: FILE_CHANNEL_MIN_FREE_BYTES })

/** One file, never rolled: a roll would charge a rename and an open to some batch. */
export const fileRollSink = (dir: string): Properties => ({ type: 'file_roll',
  'sink.directory': `${dir}/out`, 'sink.rollInterval': 0, 'sink.batchSize': SINK_BATCH_EVENTS })

export const avroSink = (port: number): Properties => ({ type: 'avro', hostname: '127.0.0.1',
  port, 'batch-size': SINK_BATCH_EVENTS })

/** Text lines in one file that never rolls (Flume's rollCount 10 would roll every 10 events). */
export const hdfsDataStreamSink = (dir: string): Properties => ({ type: 'hdfs',
  'hdfs.path': `${dir}/hdfs`, 'hdfs.fileType': 'DataStream', 'hdfs.batchSize': SINK_BATCH_EVENTS,
  'hdfs.rollInterval': 0, 'hdfs.rollSize': 0, 'hdfs.rollCount': 0 })

export interface FlowParts {
  source: Properties
  channel: Properties
  sink: Properties
}

/** The properties file of agent `agent`: one source, one channel, one sink, wired. */
export function agentProperties(agent: string, parts: FlowParts): string {
  const block = (kind: string, name: string, props: Properties) =>
    Object.entries(props).map(([key, value]) => `${agent}.${kind}.${name}.${key} = ${value}`)
  return [`${agent}.sources = r1`, `${agent}.channels = c1`, `${agent}.sinks = k1`,
    ...block('sources', 'r1', { ...parts.source, channels: 'c1' }),
    ...block('channels', 'c1', { capacity: CHANNEL_CAPACITY_EVENTS,
      transactionCapacity: SINK_BATCH_EVENTS, ...parts.channel }),
    ...block('sinks', 'k1', { ...parts.sink, channel: 'c1' })].join('\n')
}

/** Builds agent `agent` from its flow and starts it (quiet: the bench prints its own lines). */
export async function startBenchAgent(agent: string, parts: FlowParts): Promise<Agent> {
  const started = Agent.fromText(agentProperties(agent, parts), `bench-${agent}.conf`,
    { agentName: agent, logger: silentLogger })
  await started.start()
  return started
}
