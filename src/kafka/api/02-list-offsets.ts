/**
 * ListOffsets (key 2), v1–5: where a consumer starts. Timestamp −2 is the log start offset,
 * −1 the high watermark (also the last stable offset: there are no transactions); any other
 * timestamp is the first offset whose record timestamp is ≥ it, or −1 when no record is that
 * new. The Log's time lookup finds the batch; its records are then read to find the record
 * (batches of a codec sluice cannot decode, snappy and zstd, answer the batch's first offset).
 * v0 (old-style offset arrays) is not served; no client we support needs it (kafkajs sends
 * v3, librdkafka 2.0.2 v2).
 */
import { isSluiceError } from '../../errors.js'
import { isInternalTopic, kafkaCodeOf } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register, type RequestContext } from './registry.js'

const request = message({
  name: 'ListOffsetsRequest', apiKey: 2, validVersions: '1-5', flexibleVersions: '6+',
  fields: [
    field('replicaId', 'int32'),
    field('isolationLevel', 'int8', '2+'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('currentLeaderEpoch', 'int32', '4+', { default: -1 }),
        field('timestamp', 'int64'),
      ]),
    ]),
  ],
})

const response = message({
  name: 'ListOffsetsResponse', apiKey: 2, validVersions: '1-5', flexibleVersions: '6+',
  fields: [
    field('throttleTimeMs', 'int32', '2+'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('timestamp', 'int64', '1+', { default: -1 }),
        field('offset', 'int64', '1+', { default: -1 }),
        field('leaderEpoch', 'int32', '4+', { default: -1 }),
      ]),
    ]),
  ],
})

interface ListOffsetsRequest {
  topics: { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[]
}

const LATEST = -1
const EARLIEST = -2

register({
  apiKey: 2, minVersion: 1, maxVersion: 5, request, response,
  async handle(body, context) {
    const { topics } = body as unknown as ListOffsetsRequest
    return {
      throttleTimeMs: 0,
      topics: await Promise.all(topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(topic.partitions.map((partition) =>
          listOffset(topic.name, partition.partitionIndex, partition.timestamp, context))),
      }))),
    }
  },
})

async function listOffset(
  topic: string, partition: number, timestamp: number, context: RequestContext,
): Promise<object> {
  const log = context.broker.log
  if (isInternalTopic(topic)) {
    return { partitionIndex: partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
  }
  try {
    const { logStartOffset, highWatermark } = log.offsets(topic, partition)
    const found = timestamp === EARLIEST ? { offset: logStartOffset, timestamp: -1 }
      : timestamp === LATEST ? { offset: highWatermark, timestamp: -1 }
        : await firstRecordAtOrAfter(context, topic, partition, timestamp)
    return { partitionIndex: partition, errorCode: ErrorCode.NONE, ...found, leaderEpoch: 0 }
  } catch (error) {
    return { partitionIndex: partition,
      errorCode: kafkaCodeOf(error, context.broker.logger, `list offsets ${topic}`) }
  }
}

async function firstRecordAtOrAfter(
  context: RequestContext, topic: string, partition: number, timestampMs: number,
): Promise<{ offset: number; timestamp: number }> {
  const log = context.broker.log
  const batchOffset = await log.timeLookup(topic, partition, timestampMs)
  if (batchOffset === null) return { offset: -1, timestamp: -1 }
  const approximate = { offset: batchOffset, timestamp: timestampMs }
  try {
    // maxBytes 1: exactly the batch holding batchOffset, however large.
    const { records } = await log.read(topic, partition, batchOffset, { maxBytes: 1 })
    const record = records.find((r) => r.timestamp >= timestampMs)
    return record === undefined ? approximate
      : { offset: record.offset, timestamp: record.timestamp }
  } catch (error) {
    if (isSluiceError(error, 'SLUICE_ERR_UNSUPPORTED_COMPRESSION')) return approximate
    throw error
  }
}
