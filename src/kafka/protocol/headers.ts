/**
 * Request and response headers (Kafka's RequestHeader / ResponseHeader):
 *
 *   request header v1   api_key int16 · api_version int16 · correlation_id int32
 *                       · client_id nullable string (int16 length, even in v2)
 *   request header v2   v1 · tagged fields            (flexible request versions)
 *   response header v0  correlation_id int32
 *   response header v1  correlation_id int32 · tagged fields   (flexible responses, except
 *                       ApiVersions, whose response header is always v0 so that a client can
 *                       read it before it knows which versions the broker speaks)
 */
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

export const API_VERSIONS_KEY = 18
/** api_key + api_version + correlation_id + client_id length. */
export const MIN_REQUEST_HEADER_BYTES = 10

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

/** The fixed part every request version shares: enough to answer even an unknown API. */
export function decodeRequestPrefix(reader: Reader): RequestHeader {
  const apiKey = reader.int16('api_key')
  const apiVersion = reader.int16('api_version')
  const correlationId = reader.int32('correlation_id')
  const length = reader.int16('client_id length')
  const clientId = length === -1 ? null : reader.utf8(length, 'client_id')
  return { apiKey, apiVersion, correlationId, clientId }
}

/** Skips the v2 header's tagged fields (none are defined for requests yet). */
export function decodeRequestHeaderTags(reader: Reader): void {
  const count = reader.checkCount(reader.unsignedVarint('header tag count'), 2, 'header tags')
  for (let i = 0; i < count; i++) {
    reader.unsignedVarint('header tag')
    reader.skip(reader.unsignedVarint('header tag size'), 'header tag value')
  }
}

export function encodeRequestHeader(writer: Writer, header: RequestHeader, flexible: boolean)
  : void {
  writer.int16(header.apiKey)
  writer.int16(header.apiVersion)
  writer.int32(header.correlationId)
  if (header.clientId === null) writer.int16(-1)
  else {
    const byteLength = Buffer.byteLength(header.clientId)
    writer.int16(byteLength)
    writer.utf8(header.clientId, byteLength)
  }
  if (flexible) writer.unsignedVarint(0)
}

export function encodeResponseHeader(
  writer: Writer, correlationId: number, apiKey: number, flexible: boolean,
): void {
  writer.int32(correlationId)
  if (flexible && apiKey !== API_VERSIONS_KEY) writer.unsignedVarint(0)
}

export function decodeResponseHeader(reader: Reader, apiKey: number, flexible: boolean)
  : number {
  const correlationId = reader.int32('correlation_id')
  if (flexible && apiKey !== API_VERSIONS_KEY) decodeRequestHeaderTags(reader)
  return correlationId
}
