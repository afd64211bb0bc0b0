/**
 * The avro source's and sink's own operating errors, for bytes that break Flume's Avro RPC
 * (reference §8). Each has a stable `code`; a server logs it as the reason when it closes one
 * connection, a client when it drops its connection. Like the broker's wire errors they never
 * travel as a reply code: the peer sees a closed connection (and, where Avro has one, a system
 * error naming the reason first).
 */

export const AvroWireErrorCode = {
  /** A data pack's buffer count or length is negative or above its named limit. */
  FRAME: 'SLUICE_ERR_AVRO_FRAME',
  /** A handshake that cannot be decoded, or a peer protocol without Flume's messages. */
  HANDSHAKE: 'SLUICE_ERR_AVRO_HANDSHAKE',
  /** A message that cannot be decoded, or names a message the protocol does not have. */
  MESSAGE: 'SLUICE_ERR_AVRO_MESSAGE',
} as const

export type AvroWireErrorCodeValue = (typeof AvroWireErrorCode)[keyof typeof AvroWireErrorCode]

export class AvroWireError extends Error {
  constructor(readonly code: AvroWireErrorCodeValue, message: string) {
    super(message)
    this.name = 'AvroWireError'
  }
}

export function isAvroWireError(error: unknown): error is AvroWireError {
  return error instanceof AvroWireError
}
