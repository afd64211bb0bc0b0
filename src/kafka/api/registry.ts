/**
 * The handler registry: every `NN-name.ts` file registers its API key, the version range it
 * serves and its request/response schemas. The server dispatches through it and ApiVersions
 * answers from it, so what the broker advertises is exactly what it has handlers for.
 */
import { assert } from '../../errors.js'
import type { Struct } from '../protocol/codec.js'
import type { RequestHeader } from '../protocol/headers.js'
import { inRange, type MessageSchema } from '../protocol/schema.js'
import type { BrokerState } from '../broker-state.js'

export interface RequestContext {
  readonly broker: BrokerState
  readonly header: RequestHeader
  readonly version: number
  /** The peer's address as Kafka shows it in DescribeGroups (`/127.0.0.1`). */
  readonly clientHost: string
  /** Aborted when the connection closes: parked requests stop waiting for a reader gone. */
  readonly signal: AbortSignal
}

/** What a handler returns: a response body, or null when the protocol expects no reply. */
export type HandlerResult = Struct | null

export interface ApiHandler {
  readonly apiKey: number
  readonly minVersion: number
  readonly maxVersion: number
  readonly request: MessageSchema
  readonly response: MessageSchema
  handle(request: Struct, context: RequestContext): Promise<HandlerResult> | HandlerResult
}

const handlers = new Map<number, ApiHandler>()

export function register(handler: ApiHandler): ApiHandler {
  assert(!handlers.has(handler.apiKey), `API key ${handler.apiKey} registered twice`)
  for (const schema of [handler.request, handler.response]) {
    assert(schema.apiKey === handler.apiKey, `${schema.name} is not API key ${handler.apiKey}`)
    assert(inRange(handler.minVersion, schema.validVersions)
      && inRange(handler.maxVersion, schema.validVersions),
    `${schema.name} has no table for v${handler.minVersion}-${handler.maxVersion}`)
  }
  handlers.set(handler.apiKey, handler)
  return handler
}

export function handlerFor(apiKey: number): ApiHandler | undefined {
  return handlers.get(apiKey)
}

/** Every registered handler, by API key. */
export function registeredHandlers(): ApiHandler[] {
  return [...handlers.values()].sort((a, b) => a.apiKey - b.apiKey)
}

export function supports(apiKey: number, version: number): boolean {
  const handler = handlers.get(apiKey)
  return handler !== undefined && version >= handler.minVersion && version <= handler.maxVersion
}
