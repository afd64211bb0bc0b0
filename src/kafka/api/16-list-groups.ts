/**
 * ListGroups (key 16), v0–2: every group the shared coordinator knows, with its protocol type.
 */
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'ListGroupsRequest', apiKey: 16, validVersions: '0-2', flexibleVersions: '3+',
  fields: [
    array('statesFilter', 'string', '4+'),
  ],
})

const response = message({
  name: 'ListGroupsResponse', apiKey: 16, validVersions: '0-2', flexibleVersions: '3+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16'),
    array('groups', [
      field('groupId', 'string'),
      field('protocolType', 'string'),
      field('groupState', 'string', '4+'),
    ]),
  ],
})

register({
  apiKey: 16, minVersion: 0, maxVersion: 2, request, response,
  handle(_body, context) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: context.broker.coordinator.listGroups().map((group) => ({
        groupId: group.groupId, protocolType: group.protocolType, groupState: group.state,
      })),
    }
  },
})
