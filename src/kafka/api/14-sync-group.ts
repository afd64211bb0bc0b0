/**
 * SyncGroup (key 14), v0–3: the leader hands out the assignment it computed, every member
 * receives its own. A follower's request is parked until the leader's arrives.
 */
import { array, field, message } from '../protocol/schema.js'
import { register } from './registry.js'

const request = message({
  name: 'SyncGroupRequest', apiKey: 14, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('groupId', 'string'),
    field('generationId', 'int32'),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
    array('assignments', [
      field('memberId', 'string'),
      field('assignment', 'bytes'),
    ]),
  ],
})

const response = message({
  name: 'SyncGroupResponse', apiKey: 14, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
    field('assignment', 'bytes'),
  ],
})

interface SyncGroupRequest {
  groupId: string
  generationId: number
  memberId: string
  assignments: { memberId: string; assignment: Buffer }[]
}

register({
  apiKey: 14, minVersion: 0, maxVersion: 3, request, response,
  async handle(body, context) {
    const sync = body as unknown as SyncGroupRequest
    const synced = await context.broker.coordinator.sync({
      groupId: sync.groupId,
      memberId: sync.memberId,
      generationId: sync.generationId,
      // Copied: assignments outlive the request frame they arrived in.
      assignments: sync.assignments.map((a) => ({ memberId: a.memberId,
        assignment: Buffer.from(a.assignment) })),
    })
    return { throttleTimeMs: 0, errorCode: synced.errorCode, assignment: synced.assignment }
  },
})
