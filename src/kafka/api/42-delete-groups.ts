/**
 * DeleteGroups (key 42), v0–1: deletes empty groups and their committed offsets. A group with
 * members answers NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
 */
import { array, field, message } from '../protocol/schema.js'
import { register } from './registry.js'

const request = message({
  name: 'DeleteGroupsRequest', apiKey: 42, validVersions: '0-1', flexibleVersions: '2+',
  fields: [
    array('groupsNames', 'string'),
  ],
})

const response = message({
  name: 'DeleteGroupsResponse', apiKey: 42, validVersions: '0-1', flexibleVersions: '2+',
  fields: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('groupId', 'string'),
      field('errorCode', 'int16'),
    ]),
  ],
})

register({
  apiKey: 42, minVersion: 0, maxVersion: 1, request, response,
  async handle(body, context) {
    const { groupsNames } = body as unknown as { groupsNames: string[] }
    const results = await context.broker.coordinator.deleteGroups(groupsNames)
    return { throttleTimeMs: 0, results }
  },
})
