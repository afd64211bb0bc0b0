/**
 * LeaveGroup (key 13), v0–3: members leave at once instead of waiting for their session to
 * expire, so the rest of the group rebalances now. v0–2 name one member and carry one error;
 * v3+ name a list (batch leave, KIP-345) with an error per member.
 */
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'LeaveGroupRequest', apiKey: 13, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('groupId', 'string'),
    field('memberId', 'string', '0-2'),
    array('members', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', '3+', { nullable: '3+' }),
    ], '3+'),
  ],
})

const response = message({
  name: 'LeaveGroupResponse', apiKey: 13, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
    array('members', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
      field('errorCode', 'int16'),
    ], '3+'),
  ],
})

interface LeaveGroupRequest {
  groupId: string
  memberId: string
  members: { memberId: string }[]
}

/** The first version with a list of members. */
const BATCH_VERSION = 3

register({
  apiKey: 13, minVersion: 0, maxVersion: 3, request, response,
  handle(body, context) {
    const leave = body as unknown as LeaveGroupRequest
    const batch = context.version >= BATCH_VERSION
    const memberIds = batch ? leave.members.map((m) => m.memberId) : [leave.memberId]
    const { members } = context.broker.coordinator.leave({ groupId: leave.groupId, memberIds })
    if (!batch) return { throttleTimeMs: 0, errorCode: members[0]!.errorCode }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, members }
  },
})
