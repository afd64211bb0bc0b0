/**
 * The file channel's storage in the engine: one Log in the first of `dataDirs` holding, per
 * generation g,
 *
 *   channel-<g>  the events, one record each (value = body, record headers = event headers);
 *   takes-<g>    the durably committed take position within generation g: every take commit
 *                appends one record whose value is the take-position encoding (take-position.ts,
 *                xxhash64-checked), and the newest record is the position. Small segments plus
 *                retentionBytes keep it a few MiB; the active segment, holding the newest
 *                record, is never deleted.
 *
 * Puts go to the newest generation; takes drain the oldest. Once a generation holds
 * rotateAfterEvents events, puts move to a new one; once the take side has drained a
 * generation (every take committed, no append in flight) it records position 0 in the next and
 * deletes the drained one. So disk use stays bounded without the channel ever having to empty.
 * The same position is also kept in `checkpointDir/take-position.checkpoint`, written at start
 * and at a clean stop (Flume's checkpointOnClose), and used when the takes log has none.
 *
 * Recovery at start (one test per row in test/flow/file-channel.test.ts):
 *   | on disk                                         | action                                 |
 *   |-------------------------------------------------|----------------------------------------|
 *   | nothing                                         | generation 0 at offset 0               |
 *   | takes log has records                           | the newest takes topic with a record   |
 *   |                                                 | is the take generation; its newest     |
 *   |                                                 | record is the position                 |
 *   | takes log empty, checkpoint file valid          | the file's position                    |
 *   | newest record or file fails its xxhash64 check  | warn; replay the generation from start |
 *   | position beyond the log's end                   | warn; clamp to the end                 |
 *   | generations older than the take generation      | delete: they were fully taken          |
 *   | generations newer than the take generation      | keep: drained after it, in order       |
 */
import type { Log } from '../../engine/log.js'
import type { TopicConfig } from '../../engine/types.js'
import type { FileSystem } from '../../io/file-system.js'
import type { FlowLogger } from '../event.js'
import {
  decodeTakePosition, encodeTakePosition, readTakePosition, type TakePosition,
} from './take-position.js'

export const eventsTopic = (generation: number): string => `channel-${generation}`
export const takesTopic = (generation: number): string => `takes-${generation}`

const TAKES_SEGMENT_BYTES = 1024 * 1024
/** A put commit is one batch, so one batch must hold a whole transaction of large events. */
export const MAX_PUT_BATCH_BYTES = 64 * 1024 * 1024

function eventsTopicConfig(maxFileSizeBytes: number): TopicConfig {
  return { partitions: 1, durability: 'fsync', retentionMs: -1, retentionBytes: -1,
    segmentBytes: maxFileSizeBytes, maxMessageBytes: MAX_PUT_BATCH_BYTES }
}

const TAKES_CONFIG: TopicConfig = { partitions: 1, durability: 'fsync', retentionMs: -1,
  retentionBytes: TAKES_SEGMENT_BYTES, segmentBytes: TAKES_SEGMENT_BYTES }

function generationOf(topic: string): number | null {
  const match = /^(?:channel|takes)-(\d+)$/.exec(topic)
  return match === null ? null : Number(match[1])
}

/** The newest take position recorded in a takes topic, or why there is none. */
async function newestRecorded(log: Log, topic: string)
  : Promise<{ position: TakePosition | null; problem: string | null }> {
  const { highWatermark } = log.offsets(topic, 0)
  if (highWatermark === 0) return { position: null, problem: null }
  const { records } = await log.read(topic, 0, highWatermark - 1)
  const last = records.find((r) => r.offset === highWatermark - 1)
  const decoded = last?.value == null ? 'take record is missing' : decodeTakePosition(last.value)
  return typeof decoded === 'string'
    ? { position: null, problem: decoded } : { position: decoded, problem: null }
}

/** The take generation: the newest takes topic with a record, else the file's, else the oldest. */
function takeGenerationOf(log: Log, generations: number[], fileGeneration: number | null)
  : number {
  for (const generation of [...generations].reverse()) {
    const topic = takesTopic(generation)
    if ((log.offsets(topic, 0).highWatermark) > 0) return generation
  }
  return fileGeneration ?? generations[0] ?? 0
}

/** Creates both topics of a generation (either may exist after a crash mid-creation). */
export async function createGeneration(log: Log, generation: number, maxFileSizeBytes: number)
  : Promise<void> {
  const topics = await log.listTopics()
  if (!topics.includes(eventsTopic(generation))) {
    await log.createTopic(eventsTopic(generation), eventsTopicConfig(maxFileSizeBytes))
  }
  if (!topics.includes(takesTopic(generation))) {
    await log.createTopic(takesTopic(generation), TAKES_CONFIG)
  }
}

export async function retireGeneration(log: Log, generation: number): Promise<void> {
  const topics = await log.listTopics()
  for (const topic of [eventsTopic(generation), takesTopic(generation)]) {
    if (topics.includes(topic)) await log.deleteTopic(topic)
  }
}

export interface Recovered {
  takeGeneration: number
  putGeneration: number
  takeOffset: number
  /** Committed events not yet taken, in every live generation, to replay. */
  untaken: number
}

export async function recoverChannelLog(log: Log, fs: FileSystem, checkpointDir: string,
  maxFileSizeBytes: number, logger: FlowLogger, name: string): Promise<Recovered> {
  const file = readTakePosition(fs, checkpointDir)
  if (file.problem !== null) logger.warn(`channel ${name}: ${file.problem} (checkpoint file)`)
  const generations = [...new Set((await log.listTopics()).map(generationOf)
    .filter((g): g is number => g !== null))].sort((a, b) => a - b)
  for (const g of generations) await createGeneration(log, g, maxFileSizeBytes)
  const takeGeneration = takeGenerationOf(log, generations, file.position?.generation ?? null)
  for (const g of generations.filter((g) => g < takeGeneration)) await retireGeneration(log, g)
  await createGeneration(log, takeGeneration, maxFileSizeBytes)
  const newer = generations.filter((g) => g > takeGeneration)
  const takeOffset = await takeOffsetOf(log, takeGeneration,
    file.position?.generation === takeGeneration ? file : { position: null, problem: null },
    logger, name)
  let untaken = log.offsets(eventsTopic(takeGeneration), 0).highWatermark - takeOffset
  for (const g of newer) untaken += log.offsets(eventsTopic(g), 0).highWatermark
  return { takeGeneration, putGeneration: newer.at(-1) ?? takeGeneration, takeOffset, untaken }
}

async function takeOffsetOf(log: Log, generation: number,
  file: { position: TakePosition | null; problem: string | null }, logger: FlowLogger,
  name: string): Promise<number> {
  const recorded = await newestRecorded(log, takesTopic(generation))
  const problem = recorded.problem ?? (recorded.position === null ? file.problem : null)
  const { logStartOffset, highWatermark } = log.offsets(eventsTopic(generation), 0)
  if (problem !== null) {
    logger.warn(`channel ${name}: ${problem}; replaying its log from the start`)
    return logStartOffset
  }
  const position = recorded.position ?? file.position
  const takeOffset = Math.max(position?.takeOffset ?? logStartOffset, logStartOffset)
  if (takeOffset <= highWatermark) return takeOffset
  logger.warn(`channel ${name}: take position ${takeOffset} is past the log's end ` +
    `${highWatermark}; resuming at the end`)
  return highWatermark
}

/** Appends a take position to its generation's takes log; resolves once it is fsynced. */
export async function recordTakePosition(log: Log, position: TakePosition): Promise<void> {
  await log.append(takesTopic(position.generation), 0, [{ value: encodeTakePosition(position) }])
}
