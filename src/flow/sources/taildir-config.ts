/**
 * The TAILDIR source's configuration: Flume's keys and defaults
 * (TaildirSourceConfigurationConstants) read into TaildirOptions, each bad value a config error
 * naming the key and what would be right. One key is sluice's own: `maxLineLength` (bytes,
 * default DEFAULT_TAILDIR_MAX_LINE_LENGTH_BYTES = 1 MiB), past which a line without its `\n`
 * yet, or any longer line, is cut into pieces of that size, each an event; Flume has no limit
 * and holds an unfinished line in memory however long it grows.
 */
import * as path from 'node:path'
import type { ChannelProcessor } from '../channel-processor.js'
import type { Props } from '../config/props.js'
import type { FlowLogger } from '../event.js'
import { DEFAULT_TAILDIR_MAX_LINE_LENGTH_BYTES } from './tail-file.js'
import { TaildirSource, type FileGroup, type TaildirOptions } from './taildir-source.js'

const DEFAULT_POSITION_FILE = path.join('.flume', 'taildir_position.json')

/** Reads Flume's TAILDIR keys (TaildirSourceConfigurationConstants) into options. */
export function taildirOptionsFrom(props: Props, homeDirectory: string): TaildirOptions {
  const groupNames = props.required('filegroups').split(/\s+/).filter((name) => name !== '')
  if (groupNames.length === 0) throw props.fail('filegroups', 'names no file group')
  const fileGroups = groupNames.map((name): FileGroup => {
    const key = `filegroups.${name}`
    const written = props.required(key)
    if (!path.isAbsolute(written)) {
      throw props.fail(key, `needs an absolute path (a directory and a regex for the file ` +
        `name, e.g. /var/log/app/.*\\.log), got ${JSON.stringify(written)}`)
    }
    let pattern: RegExp
    try {
      pattern = new RegExp(`^(?:${path.basename(written)})$`)
    } catch (error) {
      throw props.fail(key, `the file name is not a valid regular expression: ` +
        `${(error as Error).message}`)
    }
    const headers: Record<string, string> = {}
    for (const header of props.under(`headers.${name}`)) {
      headers[header] = props.required(`headers.${name}.${header}`)
    }
    return { name, directory: path.dirname(written), pattern, headers }
  })
  for (const key of props.under('headers')) {
    const group = key.split('.')[0]!
    if (!groupNames.includes(group)) {
      throw props.fail(`headers.${key}`, `names file group ${group}, which filegroups does ` +
        `not list (${groupNames.join(' ')})`)
    }
  }
  return {
    fileGroups,
    positionFile: props.string('positionFile', path.join(homeDirectory, DEFAULT_POSITION_FILE)),
    batchSize: props.int('batchSize', 100, 1),
    // Flume replaces a maxBatchCount of 0 or less with its default, Long.MAX_VALUE.
    maxBatchCount: positiveOr(props.int('maxBatchCount', Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER),
    skipToEnd: props.bool('skipToEnd', false),
    byteOffsetHeader: props.bool('byteOffsetHeader', false),
    idleTimeoutMs: props.int('idleTimeout', 120_000, 0),
    writePosIntervalMs: props.int('writePosInterval', 3000, 1),
    backoffSleepIncrementMs: props.int('backoffSleepIncrement', 1000, 1),
    maxBackoffSleepMs: props.int('maxBackoffSleep', 5000, 1),
    cachePatternMatching: props.bool('cachePatternMatching', true),
    fileHeader: props.bool('fileHeader', false),
    fileHeaderKey: props.string('fileHeaderKey', 'file'),
    maxLineLengthBytes: props.int('maxLineLength', DEFAULT_TAILDIR_MAX_LINE_LENGTH_BYTES, 1),
  }
}

export function buildTaildirSource(props: Props, processor: ChannelProcessor,
  logger: FlowLogger, homeDirectory: string): TaildirSource {
  return new TaildirSource(props.name, processor, taildirOptionsFrom(props, homeDirectory),
    logger)
}

function positiveOr(value: number, fallback: number): number {
  return value > 0 ? value : fallback
}
