/**
 * Kafka's ConsumerProtocol (protocol type "consumer"): the bytes a consumer puts in JoinGroup's
 * protocol metadata and SyncGroup's assignment. The coordinator never reads them; members do.
 * Same bytes as kafkajs's AssignerProtocol and the Java client, so mixed groups interoperate.
 *
 *   Subscription (member metadata)     Assignment
 *     int16  version                     int16  version
 *     int32  topic count                 int32  topic count
 *       string topic                       string topic
 *     bytes  userData                      int32  partition count
 *     (v1+ fields follow; ignored)           int32  partition
 *                                        bytes  userData
 *   string = int16 length · UTF-8; bytes = int32 length · bytes (−1 = null, read as empty)
 *
 * Decoders check every length against the bytes left; a bad buffer is SLUICE_ERR_CORRUPT_BATCH.
 */
import { SluiceError } from '../errors.js'
import { BoundedReader } from './bounded-reader.js'

export const CONSUMER_PROTOCOL_TYPE = 'consumer'

export interface MemberSubscription {
  version: number
  topics: string[]
  userData: Buffer
}

export interface MemberAssignment {
  version: number
  /** topic → partitions */
  assignment: Record<string, number[]>
  userData: Buffer
}

export function encodeSubscription(subscription: MemberSubscription): Buffer {
  const writer = new Writer()
  writer.int16(subscription.version)
  writer.int32(subscription.topics.length)
  for (const topic of subscription.topics) writer.string(topic)
  writer.bytes(subscription.userData)
  return writer.finish()
}

export function decodeSubscription(bytes: Buffer): MemberSubscription {
  const reader = new BoundedReader(bytes, corrupt, 'buffer')
  const version = reader.int16()
  const topics = reader.array(() => reader.string())
  const userData = reader.bytes()
  if (version === 0) reader.end()
  return { version, topics, userData }
}

export function encodeAssignment(assignment: MemberAssignment): Buffer {
  const writer = new Writer()
  writer.int16(assignment.version)
  const topics = Object.keys(assignment.assignment)
  writer.int32(topics.length)
  for (const topic of topics) {
    writer.string(topic)
    const partitions = assignment.assignment[topic]!
    writer.int32(partitions.length)
    for (const partition of partitions) writer.int32(partition)
  }
  writer.bytes(assignment.userData)
  return writer.finish()
}

/** An empty buffer (a member the leader gave nothing) decodes to null, as in kafkajs. */
export function decodeAssignment(bytes: Buffer): MemberAssignment | null {
  if (bytes.length < 2) return null
  const reader = new BoundedReader(bytes, corrupt, 'buffer')
  const version = reader.int16()
  const assignment: Record<string, number[]> = Object.create(null) as Record<string, number[]>
  const count = reader.int32()
  reader.checkCount(count, 6)
  for (let i = 0; i < count; i++) {
    const topic = reader.string()
    assignment[topic] = reader.array(() => reader.int32())
  }
  const userData = reader.bytes()
  if (version === 0) reader.end()
  return { version, assignment, userData }
}

class Writer {
  private readonly parts: Buffer[] = []

  int16(value: number): void {
    const out = Buffer.alloc(2)
    out.writeInt16BE(value)
    this.parts.push(out)
  }

  int32(value: number): void {
    const out = Buffer.alloc(4)
    out.writeInt32BE(value)
    this.parts.push(out)
  }

  string(value: string): void {
    const bytes = Buffer.from(value, 'utf8')
    this.int16(bytes.length)
    this.parts.push(bytes)
  }

  bytes(value: Buffer): void {
    this.int32(value.length)
    this.parts.push(value)
  }

  finish(): Buffer {
    return Buffer.concat(this.parts)
  }
}

function corrupt(detail: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CORRUPT_BATCH', `consumer protocol: ${detail}`)
}
