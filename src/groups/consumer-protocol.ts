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
  const reader = new Reader(bytes)
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
  const reader = new Reader(bytes)
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

class Reader {
  private at = 0
  constructor(private readonly buffer: Buffer) {}

  int16(): number {
    this.need(2)
    const value = this.buffer.readInt16BE(this.at)
    this.at += 2
    return value
  }

  int32(): number {
    this.need(4)
    const value = this.buffer.readInt32BE(this.at)
    this.at += 4
    return value
  }

  string(): string {
    const length = this.int16()
    if (length < 0) throw corrupt(`string length ${length}`)
    this.need(length)
    const value = this.buffer.toString('utf8', this.at, this.at + length)
    this.at += length
    return value
  }

  bytes(): Buffer {
    const length = this.int32()
    if (length === -1) return Buffer.alloc(0)
    if (length < 0) throw corrupt(`bytes length ${length}`)
    this.need(length)
    const value = Buffer.from(this.buffer.subarray(this.at, this.at + length))
    this.at += length
    return value
  }

  array<T>(readItem: () => T): T[] {
    const count = this.int32()
    this.checkCount(count, 2)
    const items: T[] = []
    for (let i = 0; i < count; i++) items.push(readItem())
    return items
  }

  /** A count is plausible only if that many smallest items still fit in what is left. */
  checkCount(count: number, minItemBytes: number): void {
    if (count < 0 || count * minItemBytes > this.buffer.length - this.at) {
      throw corrupt(`array count ${count} with ${this.buffer.length - this.at} bytes left`)
    }
  }

  end(): void {
    if (this.at !== this.buffer.length) {
      throw corrupt(`${this.buffer.length - this.at} trailing bytes`)
    }
  }

  private need(count: number): void {
    if (this.at + count > this.buffer.length) throw corrupt('buffer ends early')
  }
}

function corrupt(detail: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CORRUPT_BATCH', `consumer protocol: ${detail}`)
}
