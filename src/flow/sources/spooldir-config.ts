/**
 * The spooldir source's configuration: Flume's keys and defaults
 * (SpoolDirectorySourceConfigurationConstants) read into SpoolDirOptions, each bad value a
 * config error naming the key and what would be right.
 */
import * as path from 'node:path'
import type { ChannelProcessor } from '../channel-processor.js'
import type { Props } from '../config/props.js'
import type { FlowLogger } from '../event.js'
import { spoolCharset } from './spool-reader.js'
import { SpoolDirectorySource, type SpoolDirOptions } from './spooldir-source.js'

/** Reads Flume's spooldir keys (SpoolDirectorySourceConfigurationConstants) into options. */
export function spooldirOptionsFrom(props: Props): SpoolDirOptions {
  const spoolDir = path.resolve(props.required('spoolDir'))
  const deserializer = props.string('deserializer', 'LINE')
  if (!/^(line|org\.apache\.flume\.serialization\.LineDeserializer\$Builder)$/i
    .test(deserializer)) {
    throw props.fail('deserializer', `only the LINE deserializer is supported, got ` +
      `${JSON.stringify(deserializer)} (AVRO and BlobDeserializer are not)`)
  }
  const outputCharset = props.string('deserializer.outputCharset', 'UTF-8')
  if (!/^utf-?8$/i.test(outputCharset)) {
    throw props.fail('deserializer.outputCharset', `only UTF-8 is supported, got ${outputCharset}`)
  }
  const inputCharset = props.string('inputCharset', 'UTF-8')
  const charset = spoolCharset(inputCharset)
  if ('refused' in charset) throw props.fail('inputCharset', charset.refused)
  // bufferMaxLines is obsolete in Flume too; bufferMaxLineLength is the old maxLineLength.
  props.has('bufferMaxLines')
  const maxLineLength = props.int('deserializer.maxLineLength',
    props.int('bufferMaxLineLength', 2048, 1), 1)
  const trackerDir = props.string('trackerDir', '.flumespool')
  return {
    spoolDir,
    fileSuffix: props.string('fileSuffix', '.COMPLETED'),
    deletePolicy: oneOf(props, 'deletePolicy', ['never', 'immediate'], 'never'),
    trackingPolicy: oneOf(props, 'trackingPolicy', ['rename', 'tracker_dir'], 'rename'),
    trackerDir: path.resolve(spoolDir, trackerDir),
    includePattern: anchored(props, 'includePattern', '^.*$'),
    ignorePattern: anchored(props, 'ignorePattern', '^$'),
    consumeOrder: oneOf(props, 'consumeOrder', ['oldest', 'youngest', 'random'], 'oldest'),
    pollDelayMs: props.int('pollDelay', 500, 1),
    recursiveDirectorySearch: props.bool('recursiveDirectorySearch', false),
    maxBackoffMs: props.int('maxBackoff', 4000, 1),
    batchSize: props.int('batchSize', 100, 1),
    charset: charset.encoding,
    decodeErrorPolicy: oneOf(props, 'decodeErrorPolicy', ['FAIL', 'REPLACE', 'IGNORE'], 'FAIL',
      (value) => value.toUpperCase()),
    maxLineLength,
    fileHeaderKey: props.bool('fileHeader', false) ? props.string('fileHeaderKey', 'file')
      : null,
    basenameHeaderKey: props.bool('basenameHeader', false)
      ? props.string('basenameHeaderKey', 'basename') : null,
  }
}

/** One of Flume's enum values, matched case-insensitively as Flume's valueOf(toUpperCase). */
function oneOf<T extends string>(props: Props, key: string, values: readonly T[], fallback: T,
  normalise: (value: string) => string = (value) => value.toLowerCase()): T {
  const written = props.string(key, fallback)
  const value = values.find((candidate) => candidate === normalise(written))
  if (value === undefined) {
    throw props.fail(key, `must be one of ${values.join(', ')}, got ${JSON.stringify(written)}`)
  }
  return value
}

/** A regex matched against the whole file name (Java's Matcher.matches). */
function anchored(props: Props, key: string, fallback: string): RegExp {
  return new RegExp(`^(?:${props.regex(key, fallback).source})$`)
}

export function buildSpooldirSource(props: Props, processor: ChannelProcessor,
  logger: FlowLogger): SpoolDirectorySource {
  return new SpoolDirectorySource(props.name, processor, spooldirOptionsFrom(props), logger)
}
