/**
 * ApiVersions (key 18), v0–3: the API keys and version ranges this broker serves, read from the
 * handler registry, so advertising and handling cannot drift apart. v3 is flexible (librdkafka
 * sends it first, with its software name and version as compact strings). The response header
 * is always v0 (see headers.ts). A client asking for a version we do not serve gets
 * UNSUPPORTED_VERSION in the v0 body layout, which every client can read, listing our ranges so
 * it can retry with one we do (`unsupportedVersionReply`).
 */
import type { Struct } from '../protocol/codec.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register, registeredHandlers } from './registry.js'

const request = message({
  name: 'ApiVersionsRequest', apiKey: 18, validVersions: '0-3', flexibleVersions: '3+',
  fields: [
    field('clientSoftwareName', 'string', '3+'),
    field('clientSoftwareVersion', 'string', '3+'),
  ],
})

export const apiVersionsResponse = message({
  name: 'ApiVersionsResponse', apiKey: 18, validVersions: '0-3', flexibleVersions: '3+',
  fields: [
    field('errorCode', 'int16'),
    array('apiKeys', [
      field('apiKey', 'int16'),
      field('minVersion', 'int16'),
      field('maxVersion', 'int16'),
    ]),
    field('throttleTimeMs', 'int32', '1+'),
    field('finalizedFeaturesEpoch', 'int64', '3+', { tag: 1, default: -1 }),
  ],
})

function versionsBody(errorCode: number): Struct {
  return {
    errorCode,
    apiKeys: registeredHandlers().map(({ apiKey, minVersion, maxVersion }) =>
      ({ apiKey, minVersion, maxVersion })),
    throttleTimeMs: 0,
  }
}

/** The body (v0 layout) answering an ApiVersions request of a version we do not serve. */
export function unsupportedVersionReply(): Struct {
  return versionsBody(ErrorCode.UNSUPPORTED_VERSION)
}

register({
  apiKey: 18, minVersion: 0, maxVersion: 3, request, response: apiVersionsResponse,
  handle() {
    return versionsBody(ErrorCode.NONE)
  },
})
