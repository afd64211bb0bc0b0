/**
 * sluice's public face. `Log` is the low-level embedded API (issue 2); the kafkajs-shaped client
 * is exported beside it.
 */
export { Log, type LogOptions } from './engine/log.js'
export { PartitionReader, type PartitionReaderHandle } from './engine/partition-reader.js'
export type * from './engine/types.js'
export { SluiceError, ERROR_CODES, KafkaErrorCode, isSluiceError, type ErrorCode } from './errors.js'
export * from './format/index.js'
