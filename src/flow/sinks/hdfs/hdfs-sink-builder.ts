/**
 * Reads an hdfs sink's properties (Flume's keys and defaults, HDFSEventSink.configure) and
 * builds the sink. No side effects: nothing is opened until start().
 *
 * Where Flume only warns and carries on with a setting it cannot honour (an unknown roundUnit,
 * an unknown time zone that Java turns into GMT), sluice refuses the configuration and says
 * what would be right. Keys that only mean something to a Hadoop cluster (thread pools,
 * Kerberos, replicas) are read and noted as unused, so Flume's files pass --strict.
 *
 * One key is sluice's own: `hdfs.journalDir`, where the open-files journal lives (default: the
 * part of hdfs.path before its first escape).
 */
import * as path from 'node:path'
import type { BuildContext } from '../../config/components.js'
import type { Props } from '../../config/props.js'
import type { Channel } from '../../transaction.js'
import {
  checkRound, parseTemplate, staticPrefix, timeZoneOf, type BucketTemplate, type EscapeOptions,
  type RoundUnit,
} from './bucket-path.js'
import { codecExtension, type CodecName, type FileType, type FormatSpec } from './file-format.js'
import { HdfsSink } from './hdfs-sink.js'

const FILE_TYPES: FileType[] = ['SequenceFile', 'DataStream', 'CompressedStream']
const CODECS: Record<CodecName, string> = {
  gzip: 'org.apache.hadoop.io.compress.GzipCodec', lz4: 'org.apache.hadoop.io.compress.Lz4Codec',
}
const CLUSTER_ONLY_KEYS = ['hdfs.threadsPoolSize', 'hdfs.rollTimerPoolSize',
  'hdfs.kerberosPrincipal', 'hdfs.kerberosKeytab', 'hdfs.proxyUser', 'hdfs.minBlockReplicas',
  'hdfs.useRawLocalFileSystem']
const TEXT_SERIALIZERS = ['text', 'org.apache.flume.serialization.bodytexteventserializer$builder']
const MS_PER_SECOND = 1000

/** The local directory `hdfs.path` names: a plain absolute path or a file: URL. */
function localPath(props: Props): string {
  const written = props.required('hdfs.path')
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(written)
  let local = written
  if (scheme !== null) {
    if (scheme[1]!.toLowerCase() !== 'file') {
      throw props.fail('hdfs.path', `${written}: sluice's hdfs sink writes to local or mounted ` +
        `directories only, not ${scheme[1]}: URLs; use an absolute path or file:///path ` +
        '(mount the cluster with an NFS gateway or FUSE to write into HDFS)')
    }
    local = written.slice(scheme[0].length)
    if (local.startsWith('//')) {
      const slash = local.indexOf('/', 2)
      const host = local.slice(2, slash < 0 ? undefined : slash)
      if (host !== '' && host !== 'localhost') {
        throw props.fail('hdfs.path', `${written}: a file: URL must name this host ` +
          `(file:///path), not ${host}`)
      }
      local = slash < 0 ? '/' : local.slice(slash)
    }
  }
  if (!path.isAbsolute(local)) {
    throw props.fail('hdfs.path', `${JSON.stringify(written)} must be an absolute path`)
  }
  return local
}

function template(props: Props, key: string, source: string): BucketTemplate {
  try {
    return parseTemplate(source)
  } catch (error) {
    throw props.fail(key, (error as Error).message)
  }
}

function codecOf(props: Props): CodecName | null {
  if (!props.has('hdfs.codeC')) return null
  const written = props.required('hdfs.codeC')
  if (written.toLowerCase() === 'none') return null
  for (const [name, className] of Object.entries(CODECS) as [CodecName, string][]) {
    const simple = className.slice(className.lastIndexOf('.') + 1).toLowerCase()
    const lower = written.toLowerCase()
    if (written === className || lower === simple || lower === name) return name
  }
  throw props.fail('hdfs.codeC', `Unsupported compression codec ${written}: sluice writes ` +
    'gzip (GzipCodec) and lz4 (Lz4Codec, Hadoop\'s block format), or None')
}

function formatOf(props: Props): FormatSpec {
  const writtenType = props.string('hdfs.fileType', 'SequenceFile')
  const fileType = FILE_TYPES.find((type) => type.toLowerCase() === writtenType.toLowerCase())
  if (fileType === undefined) {
    throw props.fail('hdfs.fileType', `${JSON.stringify(writtenType)} is not a file type ` +
      `(supported: ${FILE_TYPES.join(', ')})`)
  }
  const codec = codecOf(props)
  if (fileType === 'DataStream' && props.has('hdfs.codeC')) {
    throw props.fail('hdfs.codeC', 'fileType: DataStream which does NOT support compressed ' +
      'output. Please don\'t set codeC or change the fileType if compressed output is desired.')
  }
  if (fileType === 'CompressedStream' && codec === null) {
    throw props.fail('hdfs.codeC', 'It\'s essential to set compress codec when fileType is: ' +
      'CompressedStream (gzip or lz4)')
  }
  if (fileType === 'SequenceFile' && codec !== null) {
    throw props.fail('hdfs.codeC', 'block-compressed SequenceFiles are not supported; use ' +
      'fileType = CompressedStream for compressed output, or drop hdfs.codeC')
  }
  const writeFormat = props.string('hdfs.writeFormat', 'Writable')
  const format = ['Writable', 'Text'].find((f) => f.toLowerCase() === writeFormat.toLowerCase())
  if (format === undefined) {
    throw props.fail('hdfs.writeFormat', `${JSON.stringify(writeFormat)} is not a ` +
      'SequenceFile record format (supported: Writable, Text)')
  }
  const serializer = props.string('serializer', 'TEXT')
  if (!TEXT_SERIALIZERS.includes(serializer.toLowerCase())) {
    throw props.fail('serializer', `only the TEXT serializer is supported, got ${serializer}`)
  }
  return { fileType, codec: fileType === 'CompressedStream' ? codec : null,
    appendNewline: props.bool('serializer.appendNewline', true),
    writeFormat: format as 'Writable' | 'Text' }
}

function escapeOptionsOf(props: Props): EscapeOptions {
  const zoneId = props.has('hdfs.timeZone') ? props.required('hdfs.timeZone') : undefined
  let zone
  try {
    zone = timeZoneOf(zoneId)
  } catch {
    throw props.fail('hdfs.timeZone', `${JSON.stringify(zoneId)} is not a time zone (use an ` +
      'IANA name such as America/Los_Angeles, UTC, or GMT+hh:mm)')
  }
  let round: EscapeOptions['round'] = null
  if (props.bool('hdfs.round', false)) {
    const unit = props.string('hdfs.roundUnit', 'second').toLowerCase()
    if (unit !== 'second' && unit !== 'minute' && unit !== 'hour') {
      throw props.fail('hdfs.roundUnit', `${JSON.stringify(unit)} is not a rounding unit ` +
        '(second, minute or hour)')
    }
    const value = props.int('hdfs.roundValue', 1, -(2 ** 31), 2 ** 31 - 1)
    try {
      checkRound(unit as RoundUnit, value)
    } catch (error) {
      throw props.fail('hdfs.roundValue', (error as Error).message)
    }
    round = { unit: unit as RoundUnit, value }
  }
  return { zone, round,
    localClockMs: props.bool('hdfs.useLocalTimeStamp', false) ? Date.now : null }
}

function inUseSuffixOf(props: Props, context: BuildContext): string {
  if (!props.bool('hdfs.emptyInUseSuffix', false)) return props.string('hdfs.inUseSuffix', '.tmp')
  if (props.has('hdfs.inUseSuffix')) {
    context.logger.warn(`${props.fullKey('hdfs.inUseSuffix')}: ignored, since ` +
      'hdfs.emptyInUseSuffix is true')
  }
  return ''
}

export function buildHdfsSink(props: Props, channel: Channel, context: BuildContext): HdfsSink {
  const local = localPath(props)
  const pathTemplate = template(props, 'hdfs.path', local)
  const prefixTemplate = template(props, 'hdfs.filePrefix',
    props.string('hdfs.filePrefix', 'FlumeData'))
  const rootDirectory = path.resolve(pathTemplate.tokens.length === 1 &&
    pathTemplate.tokens[0]!.kind === 'text' ? local
    : path.dirname(`${staticPrefix(pathTemplate)}x`))
  const spec = formatOf(props)
  const escape = escapeOptionsOf(props)
  for (const key of CLUSTER_ONLY_KEYS) {
    if (props.has(key)) {
      context.logger.info(`${props.fullKey(key)}: a Hadoop cluster setting, not used by ` +
        'sluice\'s hdfs sink (it writes local files synchronously); ignored')
    }
  }
  const fileSuffix = props.string('hdfs.fileSuffix', '')
  const retryIntervalSeconds = props.int('hdfs.retryInterval', 180, -(2 ** 31))
  const closeTries = props.int('hdfs.closeTries', 0, -(2 ** 31), 2 ** 31 - 1)
  const journalDir = props.string('hdfs.journalDir', rootDirectory)
  if (!path.isAbsolute(journalDir)) {
    throw props.fail('hdfs.journalDir', `${JSON.stringify(journalDir)} must be an absolute path`)
  }
  return new HdfsSink(props.name, channel, {
    pathTemplate, prefixTemplate, rootDirectory, spec, escape, logger: context.logger,
    journalPath: path.join(journalDir, `.sluice-hdfs-${props.agent}-${props.name}.journal`),
    names: { suffix: fileSuffix !== '' ? fileSuffix : codecExtension(spec),
      inUsePrefix: props.string('hdfs.inUsePrefix', ''),
      inUseSuffix: inUseSuffixOf(props, context) },
    roll: {
      rollIntervalMs: props.int('hdfs.rollInterval', 30, 0) * MS_PER_SECOND,
      rollSizeBytes: props.int('hdfs.rollSize', 1024, 0),
      rollCount: props.int('hdfs.rollCount', 10, 0),
      idleTimeoutMs: props.int('hdfs.idleTimeout', 0, 0) * MS_PER_SECOND,
      // Deprecated in Flume; 1.11 documents 30 s.
      callTimeoutMs: props.int('hdfs.callTimeout', 30_000, 0),
    },
    batchSize: props.int('hdfs.batchSize', 100, 1),
    maxOpenFiles: props.int('hdfs.maxOpenFiles', 5000, 1),
    // Flume: a retry interval of 0 or less means one attempt only; closeTries 0 or less, no limit.
    retryIntervalMs: Math.max(0, retryIntervalSeconds) * MS_PER_SECOND,
    closeTries: retryIntervalSeconds <= 0 ? 1 : Math.max(0, closeTries),
  })
}
