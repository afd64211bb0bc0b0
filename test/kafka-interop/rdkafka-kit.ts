/**
 * node-rdkafka (librdkafka 2.12 bundled) for the interop tests: promise wrappers around its
 * callback API for connecting and disconnecting, and the records both node-rdkafka files send,
 * which cover what a byte-exact round trip must keep: binary keys and values, a null key, a
 * tombstone, explicit timestamps, and headers with repeated names and binary values.
 */
import type * as Rdkafka from 'node-rdkafka'
import { loadRdkafka } from './interop-kit.js'

export const { rdkafka, missing: rdkafkaMissing } = loadRdkafka()

export function rdkafkaModule(): typeof import('node-rdkafka') {
  if (rdkafka === null) throw new Error(rdkafkaMissing ?? 'node-rdkafka does not load')
  return rdkafka
}

/** Connects any node-rdkafka client, failing after `timeoutMs` instead of retrying forever. */
export function connected<T extends Rdkafka.Producer | Rdkafka.KafkaConsumer>(
  client: T, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    client.connect({ timeout: timeoutMs }, (error) => {
      if (error) reject(new Error(`node-rdkafka connect failed: ${error.message}`))
      else resolve(client)
    })
  })
}

export function disconnected(client: Rdkafka.Producer | Rdkafka.KafkaConsumer): Promise<void> {
  if (!client.isConnected()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    client.disconnect((error: unknown) => {
      if (error) reject(error instanceof Error ? error : new Error(String(error)))
      else resolve()
    })
  })
}

export interface SentRecord {
  partition: number
  key: Buffer | null
  value: Buffer | null
  timestamp: number
  headers: { name: string; value: Buffer }[]
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i))

/**
 * Records for partitions 0 and 1, in the order they are sent (so offsets are their index).
 *
 * `sender: 'node-rdkafka'` leaves out two things node-rdkafka 3.6.1's producer cannot send
 * (src/producer.cc, not librdkafka and not the broker): header values go through
 * `Nan::To<v8::String>` and `std::string(char*)`, so a binary value is cut at its first NUL byte;
 * and an empty Buffer's data pointer is NULL, which it passes on as a null value (a tombstone).
 * Its records get a text header and a one-byte value instead; kafkajs sends the full set.
 */
export function sampleRecords(baseTs: number, sender: 'kafkajs' | 'node-rdkafka' = 'kafkajs')
  : SentRecord[] {
  const h = (name: string, value: string | Buffer) => ({ name,
    value: typeof value === 'string' ? Buffer.from(value) : value })
  const rdkafka = sender === 'node-rdkafka'
  return [
    { partition: 0, key: Buffer.from('alpha'), value: Buffer.from('first ✓'), timestamp: baseTs,
      headers: [h('trace', 'one'), h('trace', 'two')] },
    { partition: 0, key: null, value: ALL_BYTES, timestamp: baseTs + 1,
      headers: [rdkafka ? h('text', 'ünïcode ✓ \r\n')
        : h('bin', Buffer.from([0, 255, 10, 13]))] },
    { partition: 0, key: Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      value: rdkafka ? Buffer.from([0]) : Buffer.alloc(0), timestamp: baseTs + 86_400_000,
      headers: [] },
    { partition: 1, key: Buffer.from('tombstone'), value: null, timestamp: baseTs + 5,
      headers: [h('reason', 'deleted')] },
    { partition: 1, key: Buffer.from('big'), value: Buffer.alloc(200_000, 0x61),
      timestamp: baseTs - 1000, headers: [h('size', '200000')] },
  ]
}

/** The offset each record must land at: its position among its partition's records. */
export function expectedOffsets(records: SentRecord[]): number[] {
  const next = new Map<number, number>()
  return records.map((r) => {
    const offset = next.get(r.partition) ?? 0
    next.set(r.partition, offset + 1)
    return offset
  })
}

/** node-rdkafka's header form: one single-key object per header, order kept. */
export function rdkafkaHeaders(record: SentRecord): Rdkafka.MessageHeader[] {
  return record.headers.map(({ name, value }) => ({ [name]: value }))
}
