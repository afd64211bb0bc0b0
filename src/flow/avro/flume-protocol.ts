/**
 * Flume's AvroSourceProtocol (flume-ng-sdk `flume.avdl`, reference §8.1) and the Avro IPC message
 * layout around it (Avro spec "Protocol Wire Format", Java's Requestor / Responder; §8.3), with
 * avsc doing every Avro encoding: the protocol is parsed from Flume's IDL text, the handshake
 * records and call bodies are avsc types.
 *
 *   request   [HandshakeRequest]  meta: map<bytes>  name: string  params (the message's record)
 *   response  [HandshakeResponse] meta: map<bytes>  isError: boolean  Status | error union
 *
 * A handshake leads only the first messages of a connection, until the server answers BOTH or
 * CLIENT; an empty name is a ping (a handshake and nothing else). A peer's protocol may be a
 * different text of the same protocol (Java's JSON is not avsc's, so hashes differ): calls are
 * read with avsc resolvers from the writer's types to ours. Everything decoded from the network
 * passes checkDatum first, so no count or length read from a peer is trusted.
 */
import avro from 'avsc'
import { checkDatum } from './bounded-datum.js'
import { AvroWireError, AvroWireErrorCode } from './wire-errors.js'

export const FLUME_PROTOCOL_IDL = `@namespace("org.apache.flume.source.avro")
protocol AvroSourceProtocol {
  enum Status { OK, FAILED, UNKNOWN }
  record AvroFlumeEvent { map<string> headers; bytes body; }
  Status append( AvroFlumeEvent event );
  Status appendBatch( array<AvroFlumeEvent> events );
}`

export type FlumeStatus = 'OK' | 'FAILED' | 'UNKNOWN'
export type FlumeMessageName = 'append' | 'appendBatch'

const FLUME_PROTOCOL = avro.readProtocol(FLUME_PROTOCOL_IDL)
/** The text sent as clientProtocol / serverProtocol; its MD5 is the protocol's hash. */
export const FLUME_PROTOCOL_TEXT = JSON.stringify(FLUME_PROTOCOL)
export const FLUME_SERVICE = avro.Service.forProtocol(FLUME_PROTOCOL)
export const FLUME_PROTOCOL_HASH: Buffer = FLUME_SERVICE.hash

/** Each record gets its own options: avsc keeps a type registry in the object it is given. */
const ipc = (): { namespace: string } => ({ namespace: 'org.apache.avro.ipc' })
const META_TYPE = avro.Type.forSchema({ type: 'map', values: 'bytes' })
const STRING_TYPE = avro.Type.forSchema('string')
const BOOLEAN_TYPE = avro.Type.forSchema('boolean')
/** Avro's system errors: the string branch every message's error union starts with. */
const SYSTEM_ERROR_TYPE = avro.Type.forSchema(['string'])

export const HANDSHAKE_REQUEST_TYPE = avro.Type.forSchema({
  type: 'record', name: 'HandshakeRequest', fields: [
    { name: 'clientHash', type: { type: 'fixed', name: 'MD5', size: 16 } },
    { name: 'clientProtocol', type: ['null', 'string'], default: null },
    { name: 'serverHash', type: 'MD5' },
    { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }], default: null },
  ],
} as avro.Schema, ipc())

export const HANDSHAKE_RESPONSE_TYPE = avro.Type.forSchema({
  type: 'record', name: 'HandshakeResponse', fields: [
    { name: 'match', type: { type: 'enum', name: 'HandshakeMatch',
      symbols: ['BOTH', 'CLIENT', 'NONE'] } },
    { name: 'serverProtocol', type: ['null', 'string'], default: null },
    { name: 'serverHash', type: ['null', { type: 'fixed', name: 'MD5', size: 16 }],
      default: null },
    { name: 'meta', type: ['null', { type: 'map', values: 'bytes' }], default: null },
  ],
} as avro.Schema, ipc())

export interface HandshakeRequest {
  clientHash: Buffer
  clientProtocol: string | null
  serverHash: Buffer
  meta: Record<string, Buffer> | null
}

export interface HandshakeResponse {
  match: 'BOTH' | 'CLIENT' | 'NONE'
  serverProtocol: string | null
  serverHash: Buffer | null
  meta: Record<string, Buffer> | null
}

interface AvscMessage {
  name: string
  requestType: avro.Type
  responseType: avro.Type
  errorType: avro.Type
}

interface AvscService {
  hash: Buffer
  message(name: string): AvscMessage | undefined
}

const OURS = FLUME_SERVICE as unknown as AvscService

/** One side's view of a peer's protocol: how to read what the peer writes. */
export class PeerProtocol {
  private readonly requestResolvers = new Map<string, avro.Resolver>()
  private readonly responseResolvers = new Map<string, avro.Resolver>()

  private constructor(readonly hash: Buffer, private readonly peer: AvscService) {
    for (const name of ['append', 'appendBatch']) {
      const theirs = peer.message(name)
      const ours = OURS.message(name)!
      if (theirs === undefined) continue
      try {
        this.requestResolvers.set(name, ours.requestType.createResolver(theirs.requestType))
        this.responseResolvers.set(name, ours.responseType.createResolver(theirs.responseType))
      } catch (error) {
        throw handshakeError(`the peer's ${name} message does not resolve against Flume's ` +
          `(${(error as Error).message})`)
      }
    }
    if (this.requestResolvers.size === 0) {
      throw handshakeError('the peer\'s protocol has neither append nor appendBatch')
    }
  }

  static readonly flume = new PeerProtocol(FLUME_PROTOCOL_HASH, OURS)

  /** Parses a protocol text sent in a handshake; throws SLUICE_ERR_AVRO_HANDSHAKE. */
  static parse(text: string, hash: Buffer): PeerProtocol {
    if (hash.equals(FLUME_PROTOCOL_HASH)) return PeerProtocol.flume
    let service: AvscService
    try {
      service = avro.Service.forProtocol(JSON.parse(text)) as unknown as AvscService
    } catch (error) {
      throw handshakeError(`the peer's protocol text is not an Avro protocol: ` +
        (error as Error).message)
    }
    return new PeerProtocol(hash, service)
  }

  has(name: string): name is FlumeMessageName {
    return this.requestResolvers.has(name)
  }

  /** Reads a call's params written with the peer's types; returns them in Flume's shape. */
  decodeParams(name: FlumeMessageName, bytes: Buffer, offset: number): unknown {
    const theirs = this.peer.message(name)!
    const end = checkDatum(theirs.requestType, bytes, offset, `${name} request`)
    if (end !== bytes.byteLength) throw trailing(`${name} request`, bytes.byteLength - end)
    const ours = OURS.message(name)!
    return ours.requestType.decode(bytes, offset, this.requestResolvers.get(name)).value
  }

  /** Reads a response body (after the handshake) for `name`; a system error is thrown. */
  decodeResponse(name: FlumeMessageName, bytes: Buffer, offset: number): FlumeStatus {
    const afterMeta = checkDatum(META_TYPE, bytes, offset, 'response meta')
    const flag = decodeChecked<boolean>(BOOLEAN_TYPE, bytes, afterMeta, 'response flag')
    const isError = flag.value
    const bodyAt = flag.offset
    const theirs = this.peer.message(name)!
    const writer = isError ? theirs.errorType : theirs.responseType
    const end = checkDatum(writer, bytes, bodyAt, `${name} response`)
    if (end !== bytes.byteLength) throw trailing(`${name} response`, bytes.byteLength - end)
    if (isError) {
      const error = writer.decode(bytes, bodyAt).value as unknown
      throw new AvroWireError(AvroWireErrorCode.MESSAGE, `the server answered ${name} with an ` +
        `Avro error: ${describeError(error)}`)
    }
    return OURS.message(name)!.responseType.decode(bytes, bodyAt,
      this.responseResolvers.get(name)).value as FlumeStatus
  }
}

function describeError(error: unknown): string {
  if (typeof error === 'string') return error
  if (error !== null && typeof error === 'object') {
    const branch = Object.values(error as Record<string, unknown>)[0]
    if (typeof branch === 'string') return branch
  }
  return JSON.stringify(error)
}

function handshakeError(message: string): AvroWireError {
  return new AvroWireError(AvroWireErrorCode.HANDSHAKE, message)
}

function trailing(what: string, extra: number): AvroWireError {
  return new AvroWireError(AvroWireErrorCode.MESSAGE, `${what}: ${extra} bytes left over`)
}

/** Decodes a datum of `type` at `offset` after checking its bounds; returns value and end. */
export function decodeChecked<T>(type: avro.Type, bytes: Buffer, offset: number, what: string)
  : { value: T; offset: number } {
  const end = checkDatum(type, bytes, offset, what)
  return { value: type.decode(bytes, offset).value as T, offset: end }
}

export function encodeHandshakeRequest(request: HandshakeRequest): Buffer {
  return HANDSHAKE_REQUEST_TYPE.toBuffer(request)
}

export function encodeHandshakeResponse(response: HandshakeResponse): Buffer {
  return HANDSHAKE_RESPONSE_TYPE.toBuffer(response)
}

/** meta {} + name + params, written with Flume's types (the layout of reference §8.4). */
export function encodeCall(name: FlumeMessageName | '', params: unknown): Buffer {
  const head = Buffer.concat([META_TYPE.toBuffer({}), STRING_TYPE.toBuffer(name)])
  if (name === '') return head
  return Buffer.concat([head, OURS.message(name)!.requestType.toBuffer(params)])
}

/** The meta map and message name that open a call body. */
export function decodeCallHead(bytes: Buffer, offset: number)
  : { name: string; offset: number } {
  const afterMeta = checkDatum(META_TYPE, bytes, offset, 'request meta')
  const { value, offset: end } = decodeChecked<string>(STRING_TYPE, bytes, afterMeta,
    'message name')
  return { name: value, offset: end }
}

/** meta {} + isError false + the Status (or, for a ping, nothing more is read). */
export function encodeStatusResponse(name: FlumeMessageName, status: FlumeStatus): Buffer {
  return Buffer.concat([META_TYPE.toBuffer({}), BOOLEAN_TYPE.toBuffer(false),
    OURS.message(name)!.responseType.toBuffer(status)])
}

/** The body avsc answers a ping with (meta {}, isError false); Java sends none. */
export function encodePingResponseBody(): Buffer {
  return Buffer.concat([META_TYPE.toBuffer({}), BOOLEAN_TYPE.toBuffer(false)])
}

/** meta {} + isError true + system error string: how Avro reports a server-side failure. */
export function encodeSystemError(message: string): Buffer {
  return Buffer.concat([META_TYPE.toBuffer({}), BOOLEAN_TYPE.toBuffer(true),
    SYSTEM_ERROR_TYPE.toBuffer(message)])
}
