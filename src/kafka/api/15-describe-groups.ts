/**
 * DescribeGroups (key 15), v0–4: state, protocol and members of each group, from the shared
 * GroupCoordinator. An unknown group is described as Dead with no error, as Kafka does.
 */
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'DescribeGroupsRequest', apiKey: 15, validVersions: '0-4', flexibleVersions: '5+',
  fields: [
    array('groups', 'string'),
    field('includeAuthorizedOperations', 'bool', '3+'),
  ],
})

const response = message({
  name: 'DescribeGroupsResponse', apiKey: 15, validVersions: '0-4', flexibleVersions: '5+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    array('groups', [
      field('errorCode', 'int16'),
      field('groupId', 'string'),
      field('groupState', 'string'),
      field('protocolType', 'string'),
      field('protocolData', 'string'),
      array('members', [
        field('memberId', 'string'),
        field('groupInstanceId', 'string', '4+', { nullable: '4+', default: null }),
        field('clientId', 'string'),
        field('clientHost', 'string'),
        field('memberMetadata', 'bytes'),
        field('memberAssignment', 'bytes'),
      ]),
      field('authorizedOperations', 'int32', '3+', { default: -2147483648 }),
    ]),
  ],
})

register({
  apiKey: 15, minVersion: 0, maxVersion: 4, request, response,
  handle(body, context) {
    const { groups } = body as unknown as { groups: string[] }
    return {
      throttleTimeMs: 0,
      groups: context.broker.coordinator.describeGroups(groups).map((group) => ({
        errorCode: ErrorCode.NONE,
        groupId: group.groupId,
        groupState: group.state,
        protocolType: group.protocolType,
        protocolData: group.protocol,
        members: group.members.map((m) => ({
          memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost,
          memberMetadata: m.metadata, memberAssignment: m.assignment,
        })),
      })),
    }
  },
})
