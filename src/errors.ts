/**
 * Operating errors: every error sluice raises on purpose is a SluiceError with a stable `code`
 * (`SLUICE_ERR_*`), a `retriable` flag and, where Kafka has one, the Kafka protocol error code.
 * Callers switch on `code`, never on message text. Bugs are not SluiceErrors: they are assertion
 * failures (see `assert` below) that stop the thread rather than corrupt data.
 *
 * The list of codes is `ERROR_CODES`; docs/errors.md documents each one and a test keeps the two
 * in agreement.
 */

/** Kafka protocol error codes that sluice maps onto (from Kafka's Errors.java). */
export const KafkaErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  MESSAGE_TOO_LARGE: 10,
  KAFKA_STORAGE_ERROR: 56,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_PARTITIONS: 37,
  INVALID_CONFIG: 40,
  TOPIC_ALREADY_EXISTS: 36,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  UNKNOWN_SERVER_ERROR: -1,
} as const

interface ErrorSpec {
  readonly kafkaCode: number | null
  readonly retriable: boolean
  readonly summary: string
}

/** Every stable error code, with its Kafka code and whether retrying can help. */
export const ERROR_CODES = {
  SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION: {
    kafkaCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    retriable: true,
    summary: 'The topic or partition does not exist.',
  },
  SLUICE_ERR_TOPIC_ALREADY_EXISTS: {
    kafkaCode: KafkaErrorCode.TOPIC_ALREADY_EXISTS,
    retriable: false,
    summary: 'A topic with this name already exists.',
  },
  SLUICE_ERR_INVALID_TOPIC: {
    kafkaCode: KafkaErrorCode.INVALID_TOPIC_EXCEPTION,
    retriable: false,
    summary: "The topic name breaks Kafka's rules: [a-zA-Z0-9._-], 1..249 characters, not . or ..",
  },
  SLUICE_ERR_DIRECTORY_LOCKED: {
    kafkaCode: null,
    retriable: false,
    summary: 'The log directory is held by another live process (its `.lock` names the pid).',
  },
  SLUICE_ERR_INVALID_CONFIG: {
    kafkaCode: KafkaErrorCode.INVALID_CONFIG,
    retriable: false,
    summary: 'A configuration value or API argument is out of its allowed range.',
  },
  SLUICE_ERR_INVALID_PARTITIONS: {
    kafkaCode: KafkaErrorCode.INVALID_PARTITIONS,
    retriable: false,
    summary: 'The partition count is not a positive integer within the limit.',
  },
  SLUICE_ERR_RECORD_TOO_LARGE: {
    kafkaCode: KafkaErrorCode.MESSAGE_TOO_LARGE,
    retriable: false,
    summary: "A record batch is larger than the topic's maxMessageBytes.",
  },
  SLUICE_ERR_OFFSET_OUT_OF_RANGE: {
    kafkaCode: KafkaErrorCode.OFFSET_OUT_OF_RANGE,
    retriable: false,
    summary: 'The offset is below the log start offset or above the high watermark.',
  },
  SLUICE_ERR_CORRUPT_BATCH: {
    kafkaCode: KafkaErrorCode.CORRUPT_MESSAGE,
    retriable: false,
    summary: 'A record batch failed a length, magic or CRC-32C check.',
  },
  SLUICE_ERR_UNSUPPORTED_COMPRESSION: {
    kafkaCode: KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
    retriable: false,
    summary: 'The batch uses a codec sluice can store but not decode (snappy, zstd).',
  },
  SLUICE_ERR_STORAGE: {
    kafkaCode: KafkaErrorCode.KAFKA_STORAGE_ERROR,
    retriable: false,
    summary: 'A write or fsync failed (ENOSPC, EIO); the partition refuses appends until recovered.',
  },
  SLUICE_ERR_PARTITION_UNAVAILABLE: {
    kafkaCode: KafkaErrorCode.LEADER_NOT_AVAILABLE,
    retriable: true,
    summary: "The partition's shard thread has died; reopen the log to recover it.",
  },
  SLUICE_ERR_CLOSED: {
    kafkaCode: null,
    retriable: false,
    summary: 'The engine (or client) has been closed.',
  },
  SLUICE_ERR_FLOW_CONFIG: {
    kafkaCode: null,
    retriable: false,
    summary: 'An agent configuration is invalid; the message names the file, line and key.',
  },
  SLUICE_ERR_CHANNEL_FULL: {
    kafkaCode: null,
    retriable: true,
    summary: 'A channel has no room (capacity, byteCapacity or free disk); the source pushes back.',
  },
  SLUICE_ERR_CHANNEL: {
    kafkaCode: null,
    retriable: false,
    summary: 'A channel transaction was misused or its storage failed (Flume ChannelException).',
  },
  SLUICE_ERR_EVENT_DELIVERY: {
    kafkaCode: null,
    retriable: true,
    summary: 'A sink or sink group could not deliver a batch; it is rolled back and retried.',
  },
  SLUICE_ERR_SOURCE_INPUT: {
    kafkaCode: null,
    retriable: false,
    summary: "A file a source reads breaks the source's rules (a spooled file changed or its " +
      'name was reused, an undecodable byte, an unreadable position file); the source stops ' +
      'and names the file.',
  },
  SLUICE_ERR_CHECKSUM: {
    kafkaCode: null,
    retriable: false,
    summary: "One of sluice's own files (checkpoint, assignment record) failed its xxhash64 check.",
  },
} as const satisfies Record<string, ErrorSpec>

export type ErrorCode = keyof typeof ERROR_CODES

export class SluiceError extends Error {
  readonly code: ErrorCode
  readonly kafkaCode: number | null
  readonly retriable: boolean

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SluiceError'
    this.code = code
    this.kafkaCode = ERROR_CODES[code].kafkaCode
    this.retriable = ERROR_CODES[code].retriable
  }

  /** A plain object that survives postMessage; `fromWire` turns it back into an error. */
  toWire(): WireError {
    return { code: this.code, message: this.message }
  }

  static fromWire(wire: WireError): SluiceError {
    return new SluiceError(wire.code, wire.message)
  }
}

export interface WireError {
  code: ErrorCode
  message: string
}

export function isSluiceError(error: unknown, code?: ErrorCode): error is SluiceError {
  return error instanceof SluiceError && (code === undefined || error.code === code)
}

/** An executable invariant: a failure is a bug in sluice, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}

export class AssertionError extends Error {
  constructor(message: string) {
    super(`sluice invariant violated: ${message}`)
    this.name = 'AssertionError'
  }
}
