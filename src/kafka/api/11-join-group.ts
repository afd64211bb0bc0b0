/**
 * JoinGroup (key 11), v0–5: a member (re)joins a consumer group on the shared GroupCoordinator.
 * The reply may be parked for a whole rebalance (up to the rebalance timeout); the server keeps
 * answering the connection's requests in order, so clients put it on its own request slot.
 * v4+: a new member first gets MEMBER_ID_REQUIRED with its id and joins again with it. v0 has
 * no rebalance timeout; the session timeout stands in, as in Kafka. v5's group.instance.id
 * (static membership) is honoured in part: a restarted static member replaces its old
 * incarnation at once, through a rebalance (Kafka skips that rebalance when nothing changed).
 */
import { array, field, message } from '../protocol/schema.js'
import { register } from './registry.js'

const request = message({
  name: 'JoinGroupRequest', apiKey: 11, validVersions: '0-5', flexibleVersions: '6+',
  fields: [
    field('groupId', 'string'),
    field('sessionTimeoutMs', 'int32'),
    field('rebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
    field('memberId', 'string'),
    field('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
    field('protocolType', 'string'),
    array('protocols', [
      field('name', 'string'),
      field('metadata', 'bytes'),
    ]),
  ],
})

const response = message({
  name: 'JoinGroupResponse', apiKey: 11, validVersions: '0-5', flexibleVersions: '6+',
  fields: [
    field('throttleTimeMs', 'int32', '2+'),
    field('errorCode', 'int16'),
    field('generationId', 'int32', '0+', { default: -1 }),
    field('protocolName', 'string'),
    field('leader', 'string'),
    field('memberId', 'string'),
    array('members', [
      field('memberId', 'string'),
      field('groupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
      field('metadata', 'bytes'),
    ]),
  ],
})

interface JoinGroupRequest {
  groupId: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: { name: string; metadata: Buffer }[]
}

/** The first version in which a new member must learn its id before joining (KIP-394). */
const MEMBER_ID_REQUIRED_VERSION = 4

register({
  apiKey: 11, minVersion: 0, maxVersion: 5, request, response,
  async handle(body, context) {
    const join = body as unknown as JoinGroupRequest
    const rebalanceTimeoutMs = join.rebalanceTimeoutMs < 0
      ? join.sessionTimeoutMs : join.rebalanceTimeoutMs
    const joined = await context.broker.coordinator.join({
      groupId: join.groupId,
      memberId: join.memberId,
      clientId: context.header.clientId ?? '',
      clientHost: context.clientHost,
      sessionTimeoutMs: join.sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType: join.protocolType,
      // Copied: the request frame's memory is not kept beyond the request.
      protocols: join.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: context.version >= MEMBER_ID_REQUIRED_VERSION,
      groupInstanceId: join.groupInstanceId ?? null,
    })
    return {
      throttleTimeMs: 0,
      errorCode: joined.errorCode,
      generationId: joined.generationId,
      protocolName: joined.protocolName,
      leader: joined.leaderId,
      memberId: joined.memberId,
      members: joined.members.map((m) => ({ memberId: m.memberId,
        groupInstanceId: m.groupInstanceId ?? null, metadata: m.metadata })),
    }
  },
})
