/**
 * One request frame in, one response frame out (or none). The frame is the bytes after the
 * 4-byte size prefix; the reply is a list of chunks starting with its own size prefix:
 *
 *   reply  = int32 size · response header (v0, or v1 for flexible versions but ApiVersions)
 *            · response body (the handler's schema, at the request's version)
 *
 * Unknown API keys and versions: ApiVersions answers UNSUPPORTED_VERSION in its v0 layout with
 * our ranges (clients then retry lower). For any other API there is no body layout we could be
 * sure the client reads, so the reply is the response header and the int16 error 35, which is
 * as close as the protocol allows; clients never send these after reading ApiVersions.
 * A frame that does not parse throws ProtocolError: the caller closes the connection.
 */
import type { BrokerState } from './broker-state.js'
import { handlerFor, unsupportedVersionReply, apiVersionsResponse } from './api/index.js'
import { ErrorCode } from './api/error-codes.js'
import { decodeMessage, encodeMessage } from './protocol/codec.js'
import {
  API_VERSIONS_KEY, decodeRequestHeaderTags, decodeRequestPrefix, encodeResponseHeader,
  type RequestHeader,
} from './protocol/headers.js'
import { Reader } from './protocol/reader.js'
import { isFlexible } from './protocol/schema.js'
import { Writer } from './protocol/writer.js'

export interface DispatchResult {
  header: RequestHeader
  /** null: the protocol expects no reply (Produce with acks=0). */
  reply: Buffer[] | null
}

export async function dispatch(
  frame: Buffer, broker: BrokerState, clientHost: string, signal: AbortSignal,
): Promise<DispatchResult> {
  const reader = new Reader(frame)
  const header = decodeRequestPrefix(reader)
  const { apiKey, apiVersion: version, correlationId } = header
  const handler = handlerFor(apiKey)
  if (handler === undefined || version < handler.minVersion || version > handler.maxVersion) {
    broker.logger.warn('unsupported API version', { apiKey, version, clientId: header.clientId })
    return { header, reply: unsupported(apiKey, correlationId) }
  }
  const flexible = isFlexible(handler.request, version)
  if (flexible) decodeRequestHeaderTags(reader)
  const body = decodeMessage(handler.request, version, reader)
  const result = await handler.handle(body, { broker, header, version, clientHost, signal })
  if (result === null) return { header, reply: null }
  const writer = new Writer()
  const size = writer.reserveInt32()
  encodeResponseHeader(writer, correlationId, apiKey, isFlexible(handler.response, version))
  encodeMessage(handler.response, version, result, writer)
  size.set(writer.length - 4)
  return { header, reply: writer.finish() }
}

function unsupported(apiKey: number, correlationId: number): Buffer[] {
  const writer = new Writer()
  const size = writer.reserveInt32()
  encodeResponseHeader(writer, correlationId, apiKey, false)
  if (apiKey === API_VERSIONS_KEY) {
    encodeMessage(apiVersionsResponse, 0, unsupportedVersionReply(), writer)
  } else {
    writer.int16(ErrorCode.UNSUPPORTED_VERSION)
  }
  size.set(writer.length - 4)
  return writer.finish()
}
