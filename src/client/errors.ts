/**
 * kafkajs-shaped errors for the embedded client: the same class names, `name` strings,
 * `retriable` flags and (for protocol errors) Kafka's numeric `code` and `type`, so code written
 * against kafkajs (`e.type === 'REBALANCE_IN_PROGRESS'`, `e.retriable`, `instanceof`-by-name)
 * behaves the same on sluice. The sluice error that caused one is kept as `cause`.
 *
 * These are sluice's own classes (kafkajs is only a dev dependency); their shapes follow
 * kafkajs 2.2.4's src/errors.js and src/protocol/error.js.
 */
import { isSluiceError, type SluiceError } from '../errors.js'

export class KafkaJSError extends Error {
  readonly retriable: boolean
  readonly helpUrl?: string
  override readonly cause?: Error

  constructor(e: Error | string, options: { retriable?: boolean; cause?: Error } = {}) {
    super(typeof e === 'string' ? e : e.message, { cause: options.cause })
    this.name = 'KafkaJSError'
    this.retriable = options.retriable ?? true
    this.cause = options.cause
  }
}

export class KafkaJSNonRetriableError extends KafkaJSError {
  constructor(e: Error | string, options: { cause?: Error } = {}) {
    super(e, { retriable: false, cause: options.cause })
    this.name = 'KafkaJSNonRetriableError'
  }
}

export class KafkaJSNotImplemented extends KafkaJSNonRetriableError {
  constructor(e: Error | string) {
    super(e)
    this.name = 'KafkaJSNotImplemented'
  }
}

/** An error Kafka names with a code: `type` is Kafka's constant name (kafkajs's `type`). */
export class KafkaJSProtocolError extends KafkaJSError {
  readonly code: number
  readonly type: string

  constructor(code: number, message?: string, options: { cause?: Error } = {}) {
    const spec = PROTOCOL_ERRORS[code] ?? PROTOCOL_ERRORS[-1]!
    super(message ?? spec.message, { retriable: spec.retriable, cause: options.cause })
    this.name = 'KafkaJSProtocolError'
    this.code = code
    this.type = spec.type
  }
}

export class KafkaJSOffsetOutOfRange extends KafkaJSProtocolError {
  readonly topic: string
  readonly partition: number

  constructor(message: string, where: { topic: string; partition: number; cause?: Error }) {
    super(1, message, { cause: where.cause })
    this.name = 'KafkaJSOffsetOutOfRange'
    this.topic = where.topic
    this.partition = where.partition
  }
}

export interface DeleteGroupsErrorEntry {
  groupId: string
  errorCode: number
  error: KafkaJSProtocolError
}

export class KafkaJSDeleteGroupsError extends KafkaJSError {
  readonly groups: DeleteGroupsErrorEntry[]

  constructor(message: string, groups: DeleteGroupsErrorEntry[]) {
    super(message)
    this.name = 'KafkaJSDeleteGroupsError'
    this.groups = groups
  }
}

interface ProtocolErrorSpec {
  type: string
  retriable: boolean
  message: string
}

/** The Kafka error codes sluice can raise, with kafkajs's type names and retriable flags. */
export const PROTOCOL_ERRORS: Record<number, ProtocolErrorSpec> = {
  [-1]: spec('UNKNOWN_SERVER_ERROR', false, 'The server experienced an unexpected error'),
  1: spec('OFFSET_OUT_OF_RANGE', false, 'The requested offset is not within the range of offsets'),
  2: spec('CORRUPT_MESSAGE', true, 'This message has failed its CRC checksum'),
  3: spec('UNKNOWN_TOPIC_OR_PARTITION', true, 'This server does not host this topic-partition'),
  5: spec('LEADER_NOT_AVAILABLE', true, 'There is no leader for this topic-partition'),
  10: spec('MESSAGE_TOO_LARGE', false, 'The request included a message larger than the max'),
  12: spec('OFFSET_METADATA_TOO_LARGE', false, 'The metadata field of the offset is too large'),
  17: spec('INVALID_TOPIC_EXCEPTION', false, 'The request attempted to use an invalid topic'),
  18: spec('RECORD_LIST_TOO_LARGE', false, 'The message batch is larger than the max segment'),
  21: spec('INVALID_REQUIRED_ACKS', false, 'Produce request specified an invalid value for acks'),
  22: spec('ILLEGAL_GENERATION', false, 'Specified group generation id is not valid'),
  16: spec('NOT_COORDINATOR', true, 'This is not the correct coordinator for this group'),
  23: spec('INCONSISTENT_GROUP_PROTOCOL', false,
    "The group member's protocol type or protocols are incompatible with the group"),
  24: spec('INVALID_GROUP_ID', false, 'The configured groupId is invalid'),
  25: spec('UNKNOWN_MEMBER_ID', false, 'The coordinator is not aware of this member'),
  26: spec('INVALID_SESSION_TIMEOUT', false, 'The session timeout is not within the range'),
  27: spec('REBALANCE_IN_PROGRESS', false, 'The group is rebalancing, so a rejoin is needed'),
  36: spec('TOPIC_ALREADY_EXISTS', false, 'Topic with this name already exists'),
  37: spec('INVALID_PARTITIONS', false, 'Number of partitions is invalid'),
  38: spec('INVALID_REPLICATION_FACTOR', false, 'Replication-factor is invalid'),
  40: spec('INVALID_CONFIG', false, 'Configuration is invalid'),
  56: spec('KAFKA_STORAGE_ERROR', true, 'Disk error when trying to access log file on the disk'),
  68: spec('NON_EMPTY_GROUP', false, 'The group is not empty'),
  69: spec('GROUP_ID_NOT_FOUND', false, 'The group id does not exist'),
  76: spec('UNSUPPORTED_COMPRESSION_TYPE', false, 'The requesting client does not support the ' +
    'compression type of given partition'),
  79: spec('MEMBER_ID_REQUIRED', false, 'There is no member id'),
}

function spec(type: string, retriable: boolean, message: string): ProtocolErrorSpec {
  return { type, retriable, message }
}

/**
 * The kafkajs error a caller sees for an engine error: a protocol error carrying the Kafka code
 * where there is one, otherwise a KafkaJSError with sluice's retriable flag. Non-sluice errors
 * (bugs) pass through untouched.
 */
export function toKafkaJSError(error: unknown, where?: { topic: string; partition: number })
  : unknown {
  if (!isSluiceError(error)) return error
  const sluice: SluiceError = error
  if (sluice.kafkaCode === 1 && where !== undefined) {
    return new KafkaJSOffsetOutOfRange(sluice.message, { ...where, cause: sluice })
  }
  if (sluice.kafkaCode !== null) {
    return new KafkaJSProtocolError(sluice.kafkaCode, sluice.message, { cause: sluice })
  }
  return sluice.retriable
    ? new KafkaJSError(sluice.message, { cause: sluice })
    : new KafkaJSNonRetriableError(sluice.message, { cause: sluice })
}

/** Runs `action`, rethrowing engine errors as kafkajs errors. */
export async function kafkaErrors<T>(action: () => Promise<T>,
  where?: { topic: string; partition: number }): Promise<T> {
  try {
    return await action()
  } catch (error) {
    throw toKafkaJSError(error, where)
  }
}
