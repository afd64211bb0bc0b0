/**
 * Choosing a partition for a message, as Kafka's Java client and kafkajs's DefaultPartitioner do:
 * an explicit partition wins; a key goes to `toPositive(murmur2(key)) % partitionCount`; a
 * message with neither goes round-robin from a random start. Same key, same partition count →
 * same partition as on a Kafka cluster, which is what lets users move between the two.
 *
 * murmur2 here is the 32-bit MurmurHash2 of Kafka's Utils.murmur2 (seed 0x9747b28c), over the
 * key's bytes (a string key is its UTF-8 bytes), computed with Math.imul's wrapping 32-bit
 * multiply in place of Java's int overflow.
 */
import { randomInt } from 'node:crypto'

const SEED = 0x9747b28c
const M = 0x5bd1e995

export function murmur2(key: Buffer | string): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key
  const length = data.length
  let h = (SEED ^ length) | 0
  const whole = length & ~3
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  // The tail bytes, as Java's switch with fall-through: byte 2, then 1, then 0.
  const tail = length & 3
  if (tail === 3) h ^= data[whole + 2]! << 16
  if (tail >= 2) h ^= data[whole + 1]! << 8
  if (tail >= 1) {
    h ^= data[whole]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

export function toPositive(value: number): number {
  return value & 0x7fffffff
}

/** The message being placed, as kafkajs's partitioners see it. */
export interface PartitionerMessage {
  key?: Buffer | string | null
  value: Buffer | string | null
  partition?: number
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>
  timestamp?: string
}

/** kafkajs's PartitionMetadata: on one node every partition is led by node 0, fully in sync. */
export interface PartitionMetadata {
  partitionErrorCode: number
  partitionId: number
  leader: number
  replicas: number[]
  isr: number[]
  offlineReplicas?: number[]
}

export interface PartitionerArgs {
  topic: string
  /** kafkajs's partitioner argument shape. */
  partitionMetadata: PartitionMetadata[]
  message: PartitionerMessage
}

export type Partitioner = (args: PartitionerArgs) => number
/** kafkajs's `createPartitioner` option: a factory called once per producer. */
export type PartitionerFactory = () => Partitioner

export const DefaultPartitioner: PartitionerFactory = () => {
  const counters = new Map<string, number>()
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition
    const count = partitionMetadata.length
    if (message.key !== null && message.key !== undefined) {
      return toPositive(murmur2(message.key)) % count
    }
    const next = (counters.get(topic) ?? randomInt(0x7fffffff)) + 1
    counters.set(topic, next)
    const available = partitionMetadata.filter((p) => p.leader >= 0)
    if (available.length > 0) return available[toPositive(next) % available.length]!.partitionId
    return toPositive(next) % count
  }
}
