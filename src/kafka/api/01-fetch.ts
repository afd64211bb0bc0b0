/**
 * Fetch (key 1), v4–11: the RecordBatch v2 versions. Records are the Log's stored batches,
 * returned as the engine's Buffer views (tail-window or file bytes) and written to the socket
 * without re-encoding or copying. Whole batches only; the first batch may start before the
 * fetch offset (clients skip earlier records) and at least one whole batch is returned even
 * when it is larger than maxBytes (KIP-74).
 *
 * Long poll: when fewer than minBytes are available the request parks on the partitions' high
 * watermarks in the shared index (Log.waitForData → Atomics.waitAsync), never on a timer loop,
 * until data arrives or maxWaitMs passes. No fetch sessions: session_id is always 0.
 */
import { Codec, CODEC_MASK, Field } from '../../format/batch-header.js'
import { isSluiceError } from '../../errors.js'
import { isInternalTopic, kafkaCodeOf, type BrokerState } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'FetchRequest', apiKey: 1, validVersions: '4-11', flexibleVersions: '12+',
  fields: [
    field('replicaId', 'int32', '0-14', { default: -1 }),
    field('maxWaitMs', 'int32'),
    field('minBytes', 'int32'),
    field('maxBytes', 'int32', '3+', { default: 0x7fffffff }),
    field('isolationLevel', 'int8', '4+'),
    field('sessionId', 'int32', '7+'),
    field('sessionEpoch', 'int32', '7+', { default: -1 }),
    array('topics', [
      field('topic', 'string', '0-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', [
        field('partition', 'int32'),
        field('currentLeaderEpoch', 'int32', '9+', { default: -1 }),
        field('fetchOffset', 'int64'),
        field('lastFetchedEpoch', 'int32', '12+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        field('partitionMaxBytes', 'int32'),
      ]),
    ]),
    array('forgottenTopicsData', [
      field('topic', 'string', '7-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', 'int32'),
    ], '7+'),
    field('rackId', 'string', '11+'),
  ],
})

const response = message({
  name: 'FetchResponse', apiKey: 1, validVersions: '4-11', flexibleVersions: '12+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '7+'),
    field('sessionId', 'int32', '7+'),
    array('responses', [
      field('topic', 'string', '0-12'),
      field('topicId', 'uuid', '13+'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
        field('highWatermark', 'int64'),
        field('lastStableOffset', 'int64', '4+', { default: -1 }),
        field('logStartOffset', 'int64', '5+', { default: -1 }),
        array('abortedTransactions', [
          field('producerId', 'int64', '4+'),
          field('firstOffset', 'int64', '4+'),
        ], '4+', { nullable: '4+' }),
        field('preferredReadReplica', 'int32', '11+', { default: -1 }),
        field('records', 'records', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
})

interface FetchPartitionRequest {
  partition: number
  currentLeaderEpoch: number
  fetchOffset: number
  partitionMaxBytes: number
}

interface FetchRequest {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  topics: { topic: string; partitions: FetchPartitionRequest[] }[]
}

interface PartitionData {
  partitionIndex: number
  errorCode: number
  highWatermark: number
  lastStableOffset: number
  logStartOffset: number
  abortedTransactions: []
  preferredReadReplica: number
  records: Buffer[] | null
}

interface Pass {
  responses: { topic: string; partitions: PartitionData[] }[]
  bytes: number
  /** Partitions read at their high watermark: where new data would come from. */
  idle: { topic: string; partition: number; offset: number }[]
}

/**
 * The longest a Fetch may park. Each parked partition holds a waiter in the engine until its
 * deadline, so a client asking for days (or closing its socket) cannot pin them for longer.
 */
export const MAX_FETCH_WAIT_MS = 30_000

/**
 * The most a Fetch reply carries, whatever the client asks: Kafka's broker fetch.max.bytes
 * default (55 MiB). Cold data is read into memory, so a client asking for 2 GiB gets this much;
 * the first batch is still returned whole when it alone is larger (KIP-74).
 */
export const MAX_FETCH_RESPONSE_BYTES = 55 * 1024 * 1024

/** Fetch versions below this cannot carry zstd batches (KIP-110). */
const ZSTD_MIN_VERSION = 10

register({
  apiKey: 1, minVersion: 4, maxVersion: 11, request, response,
  async handle(body, context) {
    const asked = body as unknown as FetchRequest
    const fetch = { ...asked, maxBytes: Math.min(asked.maxBytes, MAX_FETCH_RESPONSE_BYTES) }
    const broker = context.broker
    const deadline = Date.now() + Math.min(Math.max(0, fetch.maxWaitMs), MAX_FETCH_WAIT_MS)
    let pass = await readPass(fetch, broker, context.version)
    for (;;) {
      const remainingMs = deadline - Date.now()
      if (pass.bytes >= fetch.minBytes || remainingMs <= 0 || pass.idle.length === 0
        || context.signal.aborted) break
      await waitForAny(broker, pass.idle, remainingMs, context.signal)
      pass = await readPass(fetch, broker, context.version)
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0,
      responses: pass.responses }
  },
})

/** One read of every partition, in request order; the response budget shrinks as it goes. */
async function readPass(fetch: FetchRequest, broker: BrokerState, version: number)
  : Promise<Pass> {
  const pass: Pass = { responses: [], bytes: 0, idle: [] }
  for (const topic of fetch.topics) {
    const partitions: PartitionData[] = []
    for (const wanted of topic.partitions) {
      const budgetBytes = Math.min(wanted.partitionMaxBytes, fetch.maxBytes - pass.bytes)
      partitions.push(await readPartition(broker, topic.topic, wanted, budgetBytes, pass,
        version))
    }
    pass.responses.push({ topic: topic.topic, partitions })
  }
  return pass
}

/** One partition's data, read from the shared index and the stored bytes without waiting. */
async function readPartition(
  broker: BrokerState, topic: string, wanted: FetchPartitionRequest, budgetBytes: number,
  pass: Pass, version: number,
): Promise<PartitionData> {
  const data: PartitionData = {
    partitionIndex: wanted.partition, errorCode: ErrorCode.NONE, highWatermark: -1,
    lastStableOffset: -1, logStartOffset: -1, abortedTransactions: [],
    preferredReadReplica: -1, records: [],
  }
  if (wanted.currentLeaderEpoch > 0) {
    data.errorCode = ErrorCode.UNKNOWN_LEADER_EPOCH
    return data
  }
  if (isInternalTopic(topic)) {
    data.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    return data
  }
  try {
    const offsets = broker.log.offsets(topic, wanted.partition)
    setOffsets(data, offsets)
    const offset = wanted.fetchOffset
    if (offset < offsets.logStartOffset || offset > offsets.highWatermark) {
      data.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE
      return data
    }
    // After the first data, a spent response budget means this partition waits its turn.
    if (offset === offsets.highWatermark || (pass.bytes > 0 && budgetBytes <= 0)) {
      if (offset === offsets.highWatermark) pass.idle.push({ topic, partition: wanted.partition,
        offset })
      return data
    }
    const batches = await broker.log.readBatches(topic, wanted.partition, offset,
      { maxBytes: Math.max(0, budgetBytes), maxWaitMs: 0 })
    setOffsets(data, batches)
    if (version < ZSTD_MIN_VERSION && batches.batches.some(isZstd)) {
      data.errorCode = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE
      return data
    }
    data.records = batches.batches
    for (const batch of batches.batches) pass.bytes += batch.byteLength
  } catch (error) {
    data.errorCode = kafkaCodeOf(error, broker.logger, `fetch ${topic}-${wanted.partition}`)
    data.records = null
  }
  return data
}

function setOffsets(
  data: PartitionData, offsets: { logStartOffset: number; highWatermark: number },
): void {
  data.highWatermark = offsets.highWatermark
  // No transactions are ever open, so the last stable offset is the high watermark.
  data.lastStableOffset = offsets.highWatermark
  data.logStartOffset = offsets.logStartOffset
}

function isZstd(batch: Buffer): boolean {
  return (batch.readInt16BE(Field.attributes) & CODEC_MASK) === Codec.zstd
}

/**
 * Resolves when any idle partition has data past its offset, after `maxWaitMs`, or when the
 * connection closes.
 */
async function waitForAny(
  broker: BrokerState, idle: Pass['idle'], maxWaitMs: number, signal: AbortSignal,
): Promise<void> {
  let onAbort: () => void = () => undefined
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([aborted, ...waiters(broker, idle, maxWaitMs)])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function waiters(broker: BrokerState, idle: Pass['idle'], maxWaitMs: number)
  : Promise<unknown>[] {
  return idle.map(({ topic, partition, offset }) =>
    broker.log.waitForData(topic, partition, offset, maxWaitMs).catch((error: unknown) => {
      // A deleted or closed partition ends the wait; the next pass reports its error.
      if (isSluiceError(error)) return true
      throw error
    }))
}
