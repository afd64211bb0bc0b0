/**
 * Heartbeat (key 12), v0–3: keeps a member's session alive; REBALANCE_IN_PROGRESS is how a
 * member learns it must rejoin.
 */
import { field, message } from '../protocol/schema.js'
import { register } from './registry.js'

const request = message({
  name: 'HeartbeatRequest', apiKey: 12, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('groupId', 'string'),
    field('generationId', 'int32'),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  ],
})

const response = message({
  name: 'HeartbeatResponse', apiKey: 12, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
  ],
})

interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
}

register({
  apiKey: 12, minVersion: 0, maxVersion: 3, request, response,
  handle(body, context) {
    const { groupId, generationId, memberId } = body as unknown as HeartbeatRequest
    const errorCode = context.broker.coordinator.heartbeat({ groupId, generationId, memberId })
    return { throttleTimeMs: 0, errorCode }
  },
})
