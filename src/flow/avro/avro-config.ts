/**
 * Flume's keys for the avro source and sink (reference §2.1, §2.3) → their options, with
 * Flume's defaults and Flume's corrections (timeouts under 1000 ms become the default, as
 * NettyAvroRpcClient.configure does, with a warning). A keystore or truststore file is only
 * checked here to exist and be readable (so --validate catches a wrong path); it is opened and
 * parsed at start(), so a bad password or a corrupt store is still found only then.
 *
 * Accepted and without effect, named so in the README: the source's `threads` (unused by Flume
 * 1.11 as well) and the sink's `maxIoWorkers` (Netty I/O threads: Node does its I/O on one
 * event loop). sluice's own keys: `maxFrameBytes` (both; the largest message accepted).
 */
import * as fs from 'node:fs'
import type { ChannelProcessor } from '../channel-processor.js'
import type { Props } from '../config/props.js'
import type { FlowLogger } from '../event.js'
import { AvroSink } from '../sinks/avro-sink.js'
import { AvroSource } from '../sources/avro-source.js'
import type { Channel } from '../transaction.js'
import { DEFAULT_MAX_BUFFERS_PER_FRAME, DEFAULT_MAX_FRAME_BYTES, type FrameLimits } from
  './frame-codec.js'
import { parseIpFilterRules, type IpFilterRule } from './ip-filter.js'
import {
  STORE_TYPES, protocolOptions, type ProtocolSettings, type StoreSettings, type StoreType,
} from './tls-material.js'

const DEFAULT_TIMEOUT_MS = 20_000
const MIN_TIMEOUT_MS = 1000
const DEFAULT_BATCH_SIZE = 100
const DEFAULT_COMPRESSION_LEVEL = 6

function limits(props: Props): FrameLimits {
  return { maxFrameBytes: props.int('maxFrameBytes', DEFAULT_MAX_FRAME_BYTES, 1024),
    maxBuffersPerFrame: DEFAULT_MAX_BUFFERS_PER_FRAME }
}

function deflate(props: Props): boolean {
  const written = props.string('compression-type', 'none')
  const lower = written.toLowerCase()
  if (lower !== 'none' && lower !== 'deflate') {
    throw props.fail('compression-type', `must be none or deflate, got ${JSON.stringify(written)}`)
  }
  return lower === 'deflate'
}

function protocols(props: Props): ProtocolSettings {
  const list = (key: string): string[] | null => props.has(key)
    ? props.string(key, '').split(/\s+/).filter((name) => name !== '') : null
  const settings = { exclude: [...new Set([...(list('exclude-protocols') ?? []), 'SSLv3'])],
    include: list('include-protocols') }
  const key = props.has('include-protocols') ? 'include-protocols' : 'exclude-protocols'
  try {
    protocolOptions(settings)
  } catch (error) {
    throw props.fail(key, (error as Error).message)
  }
  return settings
}

function store(props: Props, prefix: 'keystore' | 'truststore', required: boolean)
  : StoreSettings | null {
  if (!props.has(prefix)) {
    if (required) throw props.fail(prefix, 'must be specified when SSL is enabled')
    return null
  }
  const written = props.string(`${prefix}-type`, 'JKS')
  const type = written.toUpperCase() as StoreType
  if (!STORE_TYPES.includes(type)) {
    throw props.fail(`${prefix}-type`, `must be JKS, PKCS12 or PEM (PEM is sluice's), got ` +
      JSON.stringify(written))
  }
  const password = props.has(`${prefix}-password`) ? props.string(`${prefix}-password`, '')
    : null
  if (prefix === 'keystore' && password === null && type !== 'PEM') {
    throw props.fail('keystore-password', 'must be specified when SSL is enabled')
  }
  return { key: props.fullKey(prefix), path: props.required(prefix), password, type }
}

/** A stat and an access check, no read: the builder stays free of effects beyond looking. */
function checkReadable(props: Props, prefix: 'keystore' | 'truststore',
  settings: StoreSettings | null): void {
  if (settings === null) return
  let isFile: boolean
  try {
    isFile = fs.statSync(settings.path).isFile()
    fs.accessSync(settings.path, fs.constants.R_OK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw props.fail(prefix, `cannot read ${settings.path} (${code}): must name an existing, ` +
      `readable ${prefix} file`)
  }
  if (!isFile) {
    throw props.fail(prefix, `${settings.path} is not a file: must name a ${prefix} file`)
  }
}

function ipFilter(props: Props): IpFilterRule[] | null {
  if (!props.bool('ipFilter', false)) return null
  const rules = props.string('ipFilterRules', '')
  if (rules.trim() === '') {
    throw props.fail('ipFilterRules', 'ipFilter is configured with true but ipFilterRules is ' +
      'not defined')
  }
  try {
    return parseIpFilterRules(rules)
  } catch (error) {
    throw props.fail('ipFilterRules', (error as Error).message)
  }
}

function timeout(props: Props, key: string, logger: FlowLogger): number {
  const value = props.int(key, DEFAULT_TIMEOUT_MS, 0)
  if (value >= MIN_TIMEOUT_MS) return value
  logger.warn(`${props.fullKey(key)} = ${value} ms is below ${MIN_TIMEOUT_MS} ms; using the ` +
    `default ${DEFAULT_TIMEOUT_MS} ms, as Flume does`)
  return DEFAULT_TIMEOUT_MS
}

export function buildAvroSource(props: Props, processor: ChannelProcessor, logger: FlowLogger)
  : AvroSource {
  if (!props.has('port')) throw props.fail('port', 'is required')
  props.int('threads', 0, 0)
  const ssl = props.bool('ssl', false)
  const keystore = ssl ? store(props, 'keystore', true)! : null
  const options = {
    bind: props.required('bind'), port: props.int('port', 0, 0, 65535),
    compression: deflate(props),
    tls: keystore === null ? null : { keystore, protocols: protocols(props) },
    ipFilterRules: ipFilter(props), limits: limits(props),
  }
  // Last, so a mistyped key is reported before a missing file.
  checkReadable(props, 'keystore', keystore)
  return new AvroSource(props.name, processor, options, logger)
}

export function buildAvroSink(props: Props, channel: Channel, logger: FlowLogger): AvroSink {
  if (!props.has('port')) throw props.fail('port', 'is required')
  props.int('maxIoWorkers', 1, 1)
  const ssl = props.bool('ssl', false)
  const compression = deflate(props)
  const level = props.int('compression-level', DEFAULT_COMPRESSION_LEVEL, 0, 9)
  const options = {
    hostname: props.required('hostname'), port: props.int('port', 0, 1, 65535),
    batchSize: props.int('batch-size', DEFAULT_BATCH_SIZE, 1),
    connectTimeoutMs: timeout(props, 'connect-timeout', logger),
    requestTimeoutMs: timeout(props, 'request-timeout', logger),
    resetConnectionIntervalMs: props.int('reset-connection-interval', 0, 0) * 1000,
    compressionLevel: compression ? level : null,
    tls: ssl ? { trustAllCerts: props.bool('trust-all-certs', false),
      truststore: store(props, 'truststore', false), protocols: protocols(props) } : null,
    limits: limits(props),
  }
  // Last, so a mistyped key is reported before a missing file.
  checkReadable(props, 'truststore', options.tls?.truststore ?? null)
  return new AvroSink(props.name, channel, options, logger)
}
