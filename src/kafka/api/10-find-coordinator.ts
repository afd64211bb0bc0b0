/**
 * FindCoordinator (key 10), v0–2: this node coordinates every group (and would coordinate every
 * transaction, though none are supported), so the answer is always our own address.
 */
import { field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'FindCoordinatorRequest', apiKey: 10, validVersions: '0-2', flexibleVersions: '3+',
  fields: [
    field('key', 'string', '0-3'),
    field('keyType', 'int8', '1+'),
  ],
})

const response = message({
  name: 'FindCoordinatorResponse', apiKey: 10, validVersions: '0-2', flexibleVersions: '3+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    field('errorCode', 'int16', '0-3'),
    field('errorMessage', 'string', '1-3', { nullable: '1-3' }),
    field('nodeId', 'int32', '0-3'),
    field('host', 'string', '0-3'),
    field('port', 'int32', '0-3'),
  ],
})

register({
  apiKey: 10, minVersion: 0, maxVersion: 2, request, response,
  handle(_body, context) {
    const { nodeId, host, port } = context.broker.identity
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, nodeId, host,
      port }
  },
})
