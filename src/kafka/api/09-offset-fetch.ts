/**
 * OffsetFetch (key 9), v1–5: a group's committed offsets from the shared GroupCoordinator.
 * Partitions without a commit, in a group that may not even exist, answer offset −1 with no
 * error (as Kafka does; kafkajs relies on it). v2+: a null topic list means every partition
 * the group has committed, and a top-level error code is added.
 */
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'OffsetFetchRequest', apiKey: 9, validVersions: '1-5', flexibleVersions: '6+',
  fields: [
    field('groupId', 'string', '0-7'),
    array('topics', [
      field('name', 'string'),
      array('partitionIndexes', 'int32'),
    ], '0-7', { nullable: '2-7' }),
    field('requireStable', 'bool', '7+'),
  ],
})

const response = message({
  name: 'OffsetFetchResponse', apiKey: 9, validVersions: '1-5', flexibleVersions: '6+',
  fields: [
    field('throttleTimeMs', 'int32', '3+'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('committedOffset', 'int64'),
        field('committedLeaderEpoch', 'int32', '5+', { default: -1 }),
        field('metadata', 'string', '0+', { nullable: '0+' }),
        field('errorCode', 'int16'),
      ]),
    ], '0-7'),
    field('errorCode', 'int16', '2-7'),
  ],
})

interface OffsetFetchRequest {
  groupId: string
  topics: { name: string; partitionIndexes: number[] }[] | null
}

register({
  apiKey: 9, minVersion: 1, maxVersion: 5, request, response,
  handle(body, context) {
    const { groupId, topics } = body as unknown as OffsetFetchRequest
    const fetched = context.broker.coordinator.fetchOffsets({
      groupId,
      topics: topics === null ? null
        : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes })),
    })
    const byTopic = new Map<string, object[]>()
    for (const offset of fetched) {
      let partitions = byTopic.get(offset.topic)
      if (partitions === undefined) byTopic.set(offset.topic, partitions = [])
      partitions.push({
        partitionIndex: offset.partition, committedOffset: offset.offset,
        committedLeaderEpoch: offset.leaderEpoch, metadata: offset.metadata,
        errorCode: ErrorCode.NONE,
      })
    }
    return {
      throttleTimeMs: 0,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
      errorCode: ErrorCode.NONE,
    }
  },
})
