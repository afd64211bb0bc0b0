/**
 * The Kafka room's public face: start a wire-protocol broker over a Log and a GroupCoordinator.
 * `Sluice.listen` and `sluice broker` use only this module, as other rooms must.
 */
export {
  startBroker, DEFAULT_MAX_REQUEST_BYTES, type BrokerOptions, type BrokerStats,
  type KafkaBroker,
} from './server.js'
export { stderrLogger, type BrokerLogger, type BrokerLogLevel } from './logger.js'
export { registeredHandlers } from './api/index.js'
export { ProtocolError, ProtocolErrorCode } from './protocol/errors.js'
