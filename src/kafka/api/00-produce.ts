/**
 * Produce (key 0), v3–8: the RecordBatch v2 versions (v3 is the first with magic 2). Each
 * partition's records are checked (magic, length, codec, no control batches, offsets) and handed
 * to the Log's `appendBatch` as the client sent them, compressed or not; the shard rewrites only
 * baseOffset and partitionLeaderEpoch and checks the CRC-32C. The reply waits for the Log's
 * acknowledgement, which is durable as the topic's durability promises: with the default
 * `fsync`, that is Kafka's acks=-1 on one node. acks=0 still appends but sends no reply, as
 * clients expect none. Unknown topics are auto-created when the broker allows it.
 */
import { Codec, ATTRIBUTE_CONTROL, BATCH_LENGTH_PREFIX_BYTES, readBatchHeader }
  from '../../format/batch-header.js'
import { isSluiceError } from '../../errors.js'
import { isInternalTopic, kafkaCodeOf } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register, type RequestContext } from './registry.js'

const request = message({
  name: 'ProduceRequest', apiKey: 0, validVersions: '3-8', flexibleVersions: '9+',
  fields: [
    field('transactionalId', 'string', '3+', { nullable: '3+' }),
    field('acks', 'int16'),
    field('timeoutMs', 'int32'),
    array('topicData', [
      field('name', 'string'),
      array('partitionData', [
        field('index', 'int32'),
        field('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
})

const response = message({
  name: 'ProduceResponse', apiKey: 0, validVersions: '3-8', flexibleVersions: '9+',
  fields: [
    array('responses', [
      field('name', 'string'),
      array('partitionResponses', [
        field('index', 'int32'),
        field('errorCode', 'int16'),
        field('baseOffset', 'int64'),
        field('logAppendTimeMs', 'int64', '2+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        array('recordErrors', [
          field('batchIndex', 'int32'),
          field('batchIndexErrorMessage', 'string', '8+', { nullable: '8+' }),
        ], '8+'),
        field('errorMessage', 'string', '8+', { nullable: '8+', default: null }),
      ]),
    ]),
    field('throttleTimeMs', 'int32', '1+'),
  ],
})

interface ProduceRequest {
  acks: number
  topicData: { name: string; partitionData: { index: number; records: Buffer | null }[] }[]
}

interface PartitionResponse {
  index: number
  errorCode: number
  baseOffset: number
  logStartOffset: number
  errorMessage: string | null
}

/** The first Produce version that may carry zstd batches. */
const ZSTD_MIN_VERSION = 7

register({
  apiKey: 0, minVersion: 3, maxVersion: 8, request, response,
  async handle(body, context) {
    const { acks, topicData } = body as unknown as ProduceRequest
    const responses = await Promise.all(topicData.map(async (topic) => ({
      name: topic.name,
      partitionResponses: await Promise.all(topic.partitionData.map((partition) =>
        producePartition(topic.name, partition.index, partition.records, acks, context))),
    })))
    return acks === 0 ? null : { responses, throttleTimeMs: 0 }
  },
})

async function producePartition(
  topic: string, partition: number, records: Buffer | null, acks: number,
  context: RequestContext,
): Promise<PartitionResponse> {
  const failed = (errorCode: number, errorMessage: string): PartitionResponse =>
    ({ index: partition, errorCode, baseOffset: -1, logStartOffset: -1, errorMessage })
  if (acks !== 0 && acks !== 1 && acks !== -1) {
    return failed(ErrorCode.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, got ${acks}`)
  }
  // The coordinator's offsets topic is hidden: a client's batch there would corrupt replay.
  if (isInternalTopic(topic)) {
    return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${topic}`)
  }
  const split = splitBatches(records, context.version)
  if (typeof split === 'object' && 'errorCode' in split) {
    return failed(split.errorCode, split.message)
  }
  // Kafka takes exactly one batch per partition from v3 on: storing several one by one could
  // keep the first and fail a later one, and the client's retry would then duplicate it.
  if (split.length > 1) {
    return failed(ErrorCode.INVALID_RECORD, `Produce v${context.version} takes exactly one ` +
      `record batch per partition, got ${split.length}`)
  }
  try {
    let first: { baseOffset: number; logStartOffset: number } | null = null
    for (const batch of split) {
      const result = await appendOrCreate(topic, partition, batch, context)
      first ??= result
    }
    const { baseOffset, logStartOffset } = first!
    return { index: partition, errorCode: ErrorCode.NONE, baseOffset, logStartOffset,
      errorMessage: null }
  } catch (error) {
    const code = kafkaCodeOf(error, context.broker.logger, `produce ${topic}-${partition}`)
    return failed(code, error instanceof Error ? error.message : String(error))
  }
}

async function appendOrCreate(
  topic: string, partition: number, batch: Uint8Array, context: RequestContext,
): Promise<{ baseOffset: number; logStartOffset: number }> {
  const log = context.broker.log
  try {
    return await log.appendBatch(topic, partition, batch)
  } catch (error) {
    if (!isSluiceError(error, 'SLUICE_ERR_UNKNOWN_TOPIC_OR_PARTITION')) throw error
    if (await context.broker.describe(topic) !== null) throw error
    if (!await context.broker.autoCreate(topic)) throw error
    return log.appendBatch(topic, partition, batch)
  }
}

type SplitResult = Uint8Array[] | { errorCode: number; message: string }

/** The batches of one partition's records, each checked the way Kafka's broker checks them. */
function splitBatches(records: Buffer | null, version: number): SplitResult {
  if (records === null || records.byteLength === 0) {
    return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: 'no record batch in the request' }
  }
  const batches: Uint8Array[] = []
  let position = 0
  while (position < records.byteLength) {
    let header
    try {
      header = readBatchHeader(records, position)
    } catch (error) {
      return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: String(error) }
    }
    const end = position + header.sizeBytes
    if (header.sizeBytes < BATCH_LENGTH_PREFIX_BYTES || end > records.byteLength) {
      return { errorCode: ErrorCode.CORRUPT_MESSAGE,
        message: `batch of ${header.sizeBytes} bytes overruns the ${records.byteLength} sent` }
    }
    const refused = checkBatch(header, version)
    if (refused !== null) return refused
    batches.push(ownedBatch(records.subarray(position, end)))
    position = end
  }
  return batches
}

function checkBatch(
  header: ReturnType<typeof readBatchHeader>, version: number,
): { errorCode: number; message: string } | null {
  if (header.codec === Codec.zstd && version < ZSTD_MIN_VERSION) {
    return { errorCode: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      message: `zstd needs Produce v${ZSTD_MIN_VERSION}+, got v${version}` }
  }
  if ((header.attributes & ATTRIBUTE_CONTROL) !== 0) {
    return { errorCode: ErrorCode.INVALID_RECORD, message: 'clients may not send control batches' }
  }
  if (header.lastOffsetDelta !== header.recordsCount - 1) {
    return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: `lastOffsetDelta ` +
      `${header.lastOffsetDelta} does not match ${header.recordsCount} records` }
  }
  return null
}

/** Extra bytes around a batch in its buffer that cost less to send along than a copy. */
const MIN_SLACK_BYTES = 4096

/**
 * The shard receives batches by postMessage, which copies a view's whole underlying buffer.
 * A large frame has a buffer of its own (connection.ts), barely larger than its batch: send it
 * as it is. A batch sharing a bigger buffer (a socket read holding several frames) is copied
 * out first, so the shard is never sent much more than the batch.
 */
function ownedBatch(view: Buffer): Uint8Array {
  const slackBytes = view.buffer.byteLength - view.byteLength
  return slackBytes <= Math.max(MIN_SLACK_BYTES, view.byteLength / 8) ? view
    : new Uint8Array(view)
}
