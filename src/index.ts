/**
 * sluice's public face. `Log` is the low-level embedded API (issue 2); the kafkajs-shaped client
 * is exported beside it.
 */
export { Log, type LogOptions } from './engine/log.js'
export { PartitionReader, type PartitionReaderHandle } from './engine/partition-reader.js'
export type * from './engine/types.js'
export { SluiceError, ERROR_CODES, KafkaErrorCode, isSluiceError, type ErrorCode } from './errors.js'
export * from './format/index.js'
export * from './client/index.js'
export { GroupCoordinator, type CoordinatorOptions } from './groups/coordinator.js'
export {
  LogOffsetStore, MemoryOffsetStore, OFFSETS_TOPIC, type OffsetStore,
} from './groups/offset-store.js'
export { rangeAssignor, roundRobinAssignor, type Assignor } from './groups/assignors.js'
export * as groupTypes from './groups/types.js'
export { Agent, type AgentOptions, type AgentLoadOptions } from './flow/agent.js'
export type { BrokerOptions, BrokerStats, KafkaBroker } from './kafka/index.js'
