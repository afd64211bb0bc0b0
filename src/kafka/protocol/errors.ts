/**
 * The broker's own operating errors, for bytes that break the Kafka wire protocol. Each has a
 * stable `code`; the server logs it as the reason when it closes a connection. They never
 * reach a client as a Kafka error code: a request that cannot be parsed has no reply.
 */

export const ProtocolErrorCode = {
  /** A length, count or varint points past the end of the frame, or bytes are left over. */
  MALFORMED: 'SLUICE_ERR_KAFKA_MALFORMED_REQUEST',
  /** A frame's size prefix is above maxRequestBytes or below the smallest request header. */
  FRAME_SIZE: 'SLUICE_ERR_KAFKA_FRAME_SIZE',
} as const

export type ProtocolErrorCodeValue = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode]

export class ProtocolError extends Error {
  constructor(readonly code: ProtocolErrorCodeValue, message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}

export function malformed(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.MALFORMED, message)
}

export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError
}
