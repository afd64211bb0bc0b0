/**
 * One program, written only against kafkajs's types, that produces keyed messages, consumes them
 * in a group, commits, restarts and resumes. same-program.test.ts runs it against sluice; the
 * broker issue runs the same function against `new Kafka({ brokers })` over a real socket.
 */
import type * as kafkajs from 'kafkajs'
import { Partitioners } from 'kafkajs'
import { expect } from 'vitest'

export interface KafkaLike {
  producer(): Pick<kafkajs.Producer, 'connect' | 'disconnect' | 'send'>
  consumer(config: { groupId: string }): Pick<kafkajs.Consumer,
    'connect' | 'disconnect' | 'subscribe' | 'run' | 'on' | 'events'>
  admin(): Pick<kafkajs.Admin, 'connect' | 'disconnect' | 'createTopics' | 'fetchOffsets'>
}

export interface ProgramResult {
  /** key → partitions its messages were read from (one each, if keys are partitioned right). */
  partitionsByKey: Map<string, Set<number>>
  firstRun: string[]
  secondRun: string[]
  committedAfterFirstRun: number
}

const TOPIC = 'program-events'
const GROUP = 'program-group'

export async function runKeyedProgram(
  start: () => Promise<KafkaLike>, restart: (old: KafkaLike) => Promise<KafkaLike>,
  timeoutMs = 15_000,
): Promise<ProgramResult> {
  let kafka = await start()
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] })
  await admin.disconnect()
  const partitionsByKey = new Map<string, Set<number>>()
  await produce(kafka, 0, 30)
  const firstRun = await consume(kafka, 30, partitionsByKey, timeoutMs)
  const checker = kafka.admin()
  await checker.connect()
  const offsets = await checker.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
  await checker.disconnect()
  const committedAfterFirstRun = offsets[0]!.partitions
    .reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0)
  kafka = await restart(kafka)
  await produce(kafka, 30, 20)
  const secondRun = await consume(kafka, 20, partitionsByKey, timeoutMs)
  return { partitionsByKey, firstRun, secondRun, committedAfterFirstRun }
}

async function produce(kafka: KafkaLike, from: number, count: number): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: TOPIC, messages: Array.from({ length: count }, (_, i) => ({
    key: `user-${(from + i) % 10}`, value: `event-${from + i}`,
  })) })
  await producer.disconnect()
}

/** Consumes until `count` messages arrived, then disconnects (which commits). */
async function consume(kafka: KafkaLike, count: number,
  partitionsByKey: Map<string, Set<number>>, timeoutMs: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: GROUP })
  const values: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true })
  let timer: NodeJS.Timeout | undefined
  await new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${values.length}/${count} arrived`)), timeoutMs)
    consumer.run({ eachMessage: async ({ partition, message }) => {
      const key = message.key!.toString()
      partitionsByKey.set(key, (partitionsByKey.get(key) ?? new Set()).add(partition))
      values.push(message.value!.toString())
      if (values.length === count) resolve()
    } }).catch(reject)
  }).finally(() => clearTimeout(timer))
  await consumer.disconnect()
  return values
}

/**
 * What the program must show on any Kafka-like target: every message once, each key on the
 * partition kafkajs's DefaultPartitioner picks, and the second run resuming where the first
 * committed.
 */
export function expectProgramResult(result: ProgramResult): void {
  expect(result.firstRun.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `event-${i}`).sort())
  expect(result.committedAfterFirstRun).toBe(30)
  expect(result.secondRun.sort())
    .toEqual(Array.from({ length: 20 }, (_, i) => `event-${30 + i}`).sort())
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0,
    partitionErrorCode: 0, replicas: [0], isr: [0] }))
  for (const [key, partitions] of result.partitionsByKey) {
    expect([...partitions]).toEqual([
      partitioner({ topic: TOPIC, partitionMetadata, message: { key, value: null } }),
    ])
  }
}
