/**
 * The file channel's storage in the engine: one Log in the first of `dataDirs` holding, per
 * generation g,
 *
 *   channel-<g>  the events, one record each (value = body, record headers = event headers);
 *   takes-<g>    the durably committed take position: every take commit appends one record whose
 *                value is the take-position encoding (take-position.ts, xxhash64-checked) and
 *                the newest record is the position. Small segments plus retentionBytes keep it a
 *                few MiB; the active segment, which holds the newest record, is never deleted.
 *
 * and the same position in `checkpointDir/take-position.checkpoint`, written at start, at
 * rotation and at a clean stop (Flume's checkpointOnClose), used when the takes log has none.
 *
 * Recovery at start (one test per row in test/flow/file-channel.test.ts):
 *   | on disk                                         | action                                 |
 *   |-------------------------------------------------|----------------------------------------|
 *   | nothing                                         | generation 0 at offset 0               |
 *   | takes log has records                           | newest record's position               |
 *   | takes log empty, checkpoint file valid          | the file's position                    |
 *   | newest record or file fails its xxhash64 check  | warn; replay from the log start        |
 *   | position beyond the log's end                   | warn; clamp to the end                 |
 *   | topics of other generations (rotation crash)    | delete: older ones were fully taken,   |
 *   |                                                 | newer ones never received a put        |
 */
import type { Log } from '../../engine/log.js'
import type { TopicConfig } from '../../engine/types.js'
import type { FileSystem } from '../../io/file-system.js'
import type { FlowLogger } from '../event.js'
import {
  decodeTakePosition, encodeTakePosition, readTakePosition, writeTakePosition, type TakePosition,
} from './take-position.js'

export const eventsTopic = (generation: number): string => `channel-${generation}`
export const takesTopic = (generation: number): string => `takes-${generation}`

const TAKES_SEGMENT_BYTES = 1024 * 1024

/** A put commit is one batch, so one batch must hold a whole transaction of large events. */
export const MAX_PUT_BATCH_BYTES = 64 * 1024 * 1024

export function eventsTopicConfig(maxFileSizeBytes: number): TopicConfig {
  return { partitions: 1, durability: 'fsync', retentionMs: -1, retentionBytes: -1,
    segmentBytes: maxFileSizeBytes,
    maxMessageBytes: MAX_PUT_BATCH_BYTES }
}

const TAKES_CONFIG: TopicConfig = { partitions: 1, durability: 'fsync', retentionMs: -1,
  retentionBytes: TAKES_SEGMENT_BYTES, segmentBytes: TAKES_SEGMENT_BYTES }

function generationOf(topic: string, prefix: string): number | null {
  const match = new RegExp(`^${prefix}-(\\d+)$`).exec(topic)
  return match === null ? null : Number(match[1])
}

/** The newest take position recorded in a takes topic, or why there is none. */
async function newestRecorded(log: Log, topic: string)
  : Promise<{ position: TakePosition | null; problem: string | null }> {
  const { highWatermark } = log.offsets(topic, 0)
  if (highWatermark === 0) return { position: null, problem: null }
  const { records } = await log.read(topic, 0, highWatermark - 1)
  const last = records.filter((r) => r.offset === highWatermark - 1)[0]
  const decoded = last?.value === null || last === undefined ? 'take record is missing'
    : decodeTakePosition(last.value)
  return typeof decoded === 'string'
    ? { position: null, problem: decoded } : { position: decoded, problem: null }
}

/** The generation in use: the newest takes topic with a record, else the checkpoint file's. */
async function currentGeneration(log: Log, topics: string[], fileGeneration: number | null)
  : Promise<number> {
  const generations = topics.map((t) => generationOf(t, 'takes'))
    .filter((g): g is number => g !== null).sort((a, b) => b - a)
  for (const generation of generations) {
    if (log.offsets(takesTopic(generation), 0).highWatermark > 0) return generation
  }
  return fileGeneration ?? 0
}

export interface Recovered {
  generation: number
  takeOffset: number
  /** Committed events not yet taken, to replay. */
  untaken: number
}

export async function recoverChannelLog(log: Log, fs: FileSystem, checkpointDir: string,
  maxFileSizeBytes: number, logger: FlowLogger, name: string): Promise<Recovered> {
  const file = readTakePosition(fs, checkpointDir)
  if (file.problem !== null) logger.warn(`channel ${name}: ${file.problem} (checkpoint file)`)
  const topics = await log.listTopics()
  const generation = await currentGeneration(log, topics, file.position?.generation ?? null)
  for (const topic of topics) {
    const g = generationOf(topic, 'channel') ?? generationOf(topic, 'takes')
    if (g !== null && g !== generation) await log.deleteTopic(topic)
  }
  if (!topics.includes(eventsTopic(generation))) {
    await log.createTopic(eventsTopic(generation), eventsTopicConfig(maxFileSizeBytes))
  }
  if (!topics.includes(takesTopic(generation))) {
    await log.createTopic(takesTopic(generation), TAKES_CONFIG)
  }
  const recorded = await newestRecorded(log, takesTopic(generation))
  const problem = recorded.problem ?? (recorded.position === null ? file.problem : null)
  let position = recorded.position
    ?? (file.position?.generation === generation ? file.position : null)
  const { logStartOffset, highWatermark } = log.offsets(eventsTopic(generation), 0)
  if (problem !== null) {
    logger.warn(`channel ${name}: ${problem}; replaying its log from the start`)
    position = null
  }
  let takeOffset = Math.max(position?.takeOffset ?? logStartOffset, logStartOffset)
  if (takeOffset > highWatermark) {
    logger.warn(`channel ${name}: take position ${takeOffset} is past the log's end ` +
      `${highWatermark}; resuming at the end`)
    takeOffset = highWatermark
  }
  return { generation, takeOffset, untaken: highWatermark - takeOffset }
}

/** Appends a take position to the takes log; resolves once it is fsynced. */
export async function recordTakePosition(log: Log, position: TakePosition): Promise<void> {
  await log.append(takesTopic(position.generation), 0, [{ value: encodeTakePosition(position) }])
}

/**
 * Switches to generation + 1 (the channel is empty and nothing is in flight): the new topics
 * exist and hold the position before the old ones go, so a crash at any step recovers.
 */
export async function rotateChannelLog(log: Log, fs: FileSystem, checkpointDir: string,
  oldGeneration: number, maxFileSizeBytes: number): Promise<void> {
  const generation = oldGeneration + 1
  await log.createTopic(eventsTopic(generation), eventsTopicConfig(maxFileSizeBytes))
  await log.createTopic(takesTopic(generation), TAKES_CONFIG)
  await recordTakePosition(log, { generation, takeOffset: 0 })
  writeTakePosition(fs, checkpointDir, { generation, takeOffset: 0 })
  await log.deleteTopic(eventsTopic(oldGeneration))
  await log.deleteTopic(takesTopic(oldGeneration))
}
