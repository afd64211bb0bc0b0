/**
 * Shared pieces of the kafkajs interop tests: a kafkajs client pointed at a test broker,
 * messages with keys, values, headers and fixed timestamps, and the exact form a consumed
 * record must come back in.
 */
import { compressFrame, decompressFrame } from 'lz4-napi'
import kafkajs from 'kafkajs'
import type { Consumer, EachMessagePayload, Kafka, Message } from 'kafkajs'
import { until } from '../helpers.js'

const { Kafka: KafkaClient, logLevel, CompressionCodecs, CompressionTypes } = kafkajs

export function kafkaFor(port: number, clientId = 'sluice-interop'): Kafka {
  return new KafkaClient({ brokers: [`127.0.0.1:${port}`], clientId, logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100 } })
}

/**
 * kafkajs has no LZ4 codec of its own. Kafka's LZ4 is the standard frame format, which
 * lz4-napi's frame API reads and writes.
 */
export function registerLz4Codec(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrame(buffer),
  })
}

export const BASE_TIMESTAMP_MS = 1_700_000_000_000

/** Messages with every part set: key, value, two headers (one binary), a fixed timestamp. */
export function sampleMessages(count: number, prefix: string, partition?: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}-key-${i}`,
    value: `${prefix}-value-${i}-${'x'.repeat(i % 7)}`,
    headers: { trace: `${prefix}-trace-${i}`, bytes: Buffer.from([i & 0xff, 0, 0xff]) },
    timestamp: String(BASE_TIMESTAMP_MS + i),
    ...(partition === undefined ? {} : { partition }),
  }))
}

export interface ExactRecord {
  partition: number
  offset: string
  key: string | null
  value: string | null
  headers: Record<string, string>
  timestamp: string
}

/** What a sample message must look like when consumed from `partition` at `offset`. */
export function expected(message: Message, partition: number, offset: number): ExactRecord {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers[name] = Buffer.from(value as Buffer | string).toString('hex')
  }
  return { partition, offset: String(offset), key: String(message.key),
    value: String(message.value), headers, timestamp: String(message.timestamp) }
}

export function exact({ partition, message }: Pick<EachMessagePayload, 'partition' | 'message'>)
  : ExactRecord {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    headers[name] = Buffer.from(value as Buffer).toString('hex')
  }
  return { partition, offset: message.offset, key: message.key?.toString() ?? null,
    value: message.value?.toString() ?? null, headers, timestamp: message.timestamp }
}

/** Runs `consumer` on `topic` until `count` records arrived; returns them in arrival order. */
export async function consumeCount(consumer: Consumer, topic: string, count: number,
  fromBeginning = true): Promise<ExactRecord[]> {
  const records: ExactRecord[] = []
  await consumer.subscribe({ topic, fromBeginning })
  await consumer.run({ eachMessage: async (payload) => void records.push(exact(payload)) })
  await until(`${count} records from ${topic}`, () => records.length >= count, 30_000)
  return records
}

export function byPosition(records: ExactRecord[]): ExactRecord[] {
  return [...records].sort((a, b) => a.partition - b.partition
    || Number(a.offset) - Number(b.offset))
}
