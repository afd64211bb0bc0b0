// Proves that node-rdkafka's producer (librdkafka 2.12) writes to `sluice broker` byte for byte:
// each delivery report names the offset the record got, and another client (kafkajs) reads back
// exactly the binary keys and values, null key, tombstone, 200 KB value, explicit timestamps and
// repeated headers that were sent, at those offsets, uncompressed and lz4. (What node-rdkafka
// itself cannot send, binary header values and empty values, is in rdkafka-kit.ts.)
import { CompressionCodecs, CompressionTypes, Kafka, logLevel, type KafkaMessage } from 'kafkajs'
import { compressFrameSync, decompressFrameSync } from 'lz4-napi'
import type * as Rdkafka from 'node-rdkafka'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertGateOpen, interopGate, killChildren, startBroker, type BrokerProcess,
} from './interop-kit.js'
import {
  connected, disconnected, expectedOffsets, rdkafkaHeaders, rdkafkaMissing, rdkafkaModule,
  sampleRecords, type SentRecord,
} from './rdkafka-kit.js'
import { waitFor } from '../client/client-helpers.js'

const gate = interopGate('node-rdkafka', rdkafkaMissing)
const BASE_TS = 1_710_000_000_000

let broker: BrokerProcess
let kafka: Kafka
const clients: Rdkafka.Producer[] = []

beforeAll(async () => {
  if (gate.skip) return
  assertGateOpen(gate)
  // kafkajs, the reader here, has no built-in LZ4; this is how its plugins add one.
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => compressFrameSync(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrameSync(buffer),
  })
  broker = await startBroker({ args: ['--default-partitions', '2'] })
  kafka = new Kafka({ clientId: 'interop-rdkafka-producer', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING, retry: { retries: 2 } })
})

afterAll(async () => {
  await Promise.all(clients.map((c) => disconnected(c).catch(() => undefined)))
  await broker?.cleanup()
  killChildren()
})

/** Sends every record with node-rdkafka; resolves with each one's delivery report, in order. */
async function produceAll(topic: string, records: SentRecord[], codec: string)
  : Promise<Rdkafka.DeliveryReport[]> {
  const { Producer } = rdkafkaModule()
  const producer = new Producer({ 'metadata.broker.list': broker.bootstrap, dr_cb: true,
    'compression.codec': codec as 'none' | 'lz4', 'linger.ms': 20, 'socket.timeout.ms': 10_000 },
  { 'message.timeout.ms': 15_000 })
  clients.push(producer)
  const reports: (Rdkafka.DeliveryReport | undefined)[] = records.map(() => undefined)
  const errors: string[] = []
  const all = waitFor(`${records.length} delivery reports`,
    () => reports.every((r) => r !== undefined) || errors.length > 0, 30_000)
  producer.on('delivery-report', (error, report) => {
    if (error) errors.push(error.message)
    else reports[report.opaque as number] = report
    all.poke()
  })
  await connected(producer)
  producer.setPollInterval(10)
  records.forEach((r, i) => producer.produce(topic, r.partition, r.value, r.key, r.timestamp, i,
    rdkafkaHeaders(r)))
  await all.done
  await disconnected(producer)
  expect(errors).toEqual([])
  return reports as Rdkafka.DeliveryReport[]
}

/** Reads `count` records of `topic` from the beginning with kafkajs, sorted by partition/offset. */
async function readBack(topic: string, count: number)
  : Promise<(KafkaMessage & { partition: number })[]> {
  const consumer = kafka.consumer({ groupId: `read-back-${topic}`, maxWaitTimeInMs: 100 })
  const seen: (KafkaMessage & { partition: number })[] = []
  const enough = waitFor(`${count} records read back`, () => seen.length >= count, 30_000)
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async ({ partition, message }) => {
      seen.push({ ...message, partition })
      enough.poke()
    } })
    await enough.done
  } finally {
    await consumer.disconnect()
  }
  return seen.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
}

describe.skipIf(gate.skip)('node-rdkafka producer', () => {
  it.each(['none', 'lz4'])('delivers exact records at the reported offsets (%s)', async (codec) => {
    const topic = `rdkafka-produce-${codec}`
    const records = sampleRecords(BASE_TS, 'node-rdkafka')
    const offsets = expectedOffsets(records)
    const reports = await produceAll(topic, records, codec)
    expect(reports.map((r) => [r.topic, r.partition, r.offset])).toEqual(
      records.map((r, i) => [topic, r.partition, offsets[i]]))

    const got = await readBack(topic, records.length)
    const inReadOrder = records.map((r, i) => ({ r, offset: offsets[i]! }))
      .sort((a, b) => a.r.partition - b.r.partition || a.offset - b.offset)
    expect(got.map((m) => ({ partition: m.partition, offset: m.offset, key: m.key,
      value: m.value, timestamp: m.timestamp, headers: m.headers }))).toEqual(
      inReadOrder.map(({ r, offset }) => ({ partition: r.partition, offset: String(offset),
        key: r.key, value: r.value, timestamp: String(r.timestamp),
        headers: kafkajsHeaders(r) })))
  })
})

/** kafkajs folds repeated header names into an array of values. */
function kafkajsHeaders(record: SentRecord): Record<string, Buffer | Buffer[]> {
  const headers: Record<string, Buffer | Buffer[]> = {}
  for (const { name, value } of record.headers) {
    const had = headers[name]
    headers[name] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value]
  }
  return headers
}
