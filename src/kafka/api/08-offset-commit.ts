/**
 * OffsetCommit (key 8), v2–7: stores a group's committed offsets through the shared
 * GroupCoordinator, which writes them to `__consumer_offsets` before answering (so a commit is
 * as durable as an fsync produce). Generation −1 with an empty member id is an admin commit,
 * allowed only on an empty group. retention_time (v2–4) is ignored, as Kafka 2.1+ does.
 */
import { array, field, message } from '../protocol/schema.js'
import { register } from './registry.js'

const request = message({
  name: 'OffsetCommitRequest', apiKey: 8, validVersions: '2-7', flexibleVersions: '8+',
  fields: [
    field('groupId', 'string'),
    field('generationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
    field('memberId', 'string', '1+'),
    field('groupInstanceId', 'string', '7+', { nullable: '7+', default: null }),
    field('retentionTimeMs', 'int64', '2-4', { default: -1 }),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('committedOffset', 'int64'),
        field('committedLeaderEpoch', 'int32', '6+', { default: -1 }),
        field('committedMetadata', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
})

const response = message({
  name: 'OffsetCommitResponse', apiKey: 8, validVersions: '2-7', flexibleVersions: '8+',
  fields: [
    field('throttleTimeMs', 'int32', '3+'),
    array('topics', [
      field('name', 'string'),
      array('partitions', [
        field('partitionIndex', 'int32'),
        field('errorCode', 'int16'),
      ]),
    ]),
  ],
})

interface OffsetCommitRequest {
  groupId: string
  generationIdOrMemberEpoch: number
  memberId: string
  topics: {
    name: string
    partitions: {
      partitionIndex: number
      committedOffset: number
      committedLeaderEpoch: number
      committedMetadata: string | null
    }[]
  }[]
}

register({
  apiKey: 8, minVersion: 2, maxVersion: 7, request, response,
  async handle(body, context) {
    const commit = body as unknown as OffsetCommitRequest
    const outcomes = await context.broker.coordinator.commitOffsets({
      groupId: commit.groupId,
      memberId: commit.memberId,
      generationId: commit.generationIdOrMemberEpoch,
      offsets: commit.topics.flatMap((topic) => topic.partitions.map((p) => ({
        topic: topic.name, partition: p.partitionIndex, offset: p.committedOffset,
        metadata: p.committedMetadata, leaderEpoch: p.committedLeaderEpoch,
      }))),
    })
    let at = 0
    return {
      throttleTimeMs: 0,
      topics: commit.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p) => ({
          partitionIndex: p.partitionIndex, errorCode: outcomes[at++]!.errorCode,
        })),
      })),
    }
  },
})
