/**
 * The embedded kafkajs-shaped client's public face: the Sluice entry point, its producer,
 * consumer and admin, kafkajs-named errors, the partitioner and the shapes they use.
 */
export { Sluice } from './sluice.js'
export { SluiceProducer } from './producer.js'
export { SluiceConsumer } from './consumer.js'
export { SluiceAdmin } from './admin.js'
export {
  KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError, KafkaJSOffsetOutOfRange,
  KafkaJSDeleteGroupsError, KafkaJSNotImplemented,
} from './errors.js'
export { DefaultPartitioner, murmur2, type PartitionerFactory } from './partitioner.js'
export { logLevel, type Logger, type LogCreator, type LogEntry } from './logger.js'
export type { InstrumentationEvent } from './instrumentation.js'
export * from './types.js'
