// Type-level proof (checked by tsc, see api-shape.test.ts) that sluice's producer, consumer and
// admin can stand where kafkajs's Producer, Consumer and Admin are expected, for the methods the
// issue names, and that kafkajs-typed handlers and records are accepted by sluice.
import type * as kafkajs from 'kafkajs'
import type { Sluice } from '../../src/index.js'
import type { KafkaLike } from './same-program.js'

declare const sluice: Sluice

type ProducerMethods = 'connect' | 'disconnect' | 'send' | 'sendBatch' | 'isIdempotent'
  | 'events' | 'on'
type ConsumerMethods = 'connect' | 'disconnect' | 'subscribe' | 'run' | 'stop' | 'commitOffsets'
  | 'seek' | 'pause' | 'paused' | 'resume' | 'describeGroup' | 'events' | 'on'
type AdminMethods = 'connect' | 'disconnect' | 'createTopics' | 'deleteTopics' | 'listTopics'
  | 'fetchTopicMetadata' | 'fetchTopicOffsets' | 'fetchTopicOffsetsByTimestamp' | 'fetchOffsets'
  | 'resetOffsets' | 'setOffsets' | 'createPartitions' | 'describeGroups' | 'listGroups'
  | 'deleteGroups' | 'events' | 'on'

export const producer: Pick<kafkajs.Producer, ProducerMethods> = sluice.producer()
export const consumer: Pick<kafkajs.Consumer, ConsumerMethods> = sluice.consumer({ groupId: 'g' })
export const admin: Pick<kafkajs.Admin, AdminMethods> = sluice.admin()

// kafkajs-typed values flow into sluice unchanged.
declare const record: kafkajs.ProducerRecord
declare const batch: kafkajs.ProducerBatch
declare const eachMessage: kafkajs.EachMessageHandler
declare const eachBatch: kafkajs.EachBatchHandler
declare const runConfig: kafkajs.ConsumerRunConfig
export const sent: Promise<kafkajs.RecordMetadata[]> = sluice.producer().send(record)
export const sentBatch: Promise<kafkajs.RecordMetadata[]> = sluice.producer().sendBatch(batch)
export const ran: Promise<void> = sluice.consumer({ groupId: 'g' }).run({ eachMessage })
export const ranBatches: Promise<void> = sluice.consumer({ groupId: 'g' }).run({ eachBatch })
export const ranConfig: Promise<void> = sluice.consumer({ groupId: 'g' }).run(runConfig)

// kafkajs-typed configs are accepted as they are, assigner factories included.
declare const consumerConfig: kafkajs.ConsumerConfig
declare const producerConfig: kafkajs.ProducerConfig
export const configuredConsumer = sluice.consumer(consumerConfig)
export const configuredProducer = sluice.producer(producerConfig)

// The same-program test's target type is met by both sluice and kafkajs's own client.
declare const realKafka: kafkajs.Kafka
export const sluiceTarget: KafkaLike = sluice
export const kafkaTarget: KafkaLike = realKafka

// What sluice does not offer is a type error, so this file notices if that changes.
// @ts-expect-error transactions are not implemented
export const fullProducer: kafkajs.Producer = sluice.producer()
