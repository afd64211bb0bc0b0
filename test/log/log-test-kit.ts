/** Shared fixtures of the log tests: batches, configs, a fake clock, logs in temp dirs. */
import { readFileSync } from 'node:fs'
import { decodeBatch, encodeBatch } from '../../src/format/record-batch.js'
import type { FileSystem } from '../../src/io/file-system.js'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { PartitionLog, type PartitionLogConfig, type RecoveryReport } from '../../src/log/index.js'

export const baseConfig: PartitionLogConfig = {
  segmentBytes: 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: -1,
  retentionBytes: -1,
  durability: 'fsync',
  indexIntervalBytes: 256,
  maxMessageBytes: 1024 * 1024,
}

export class FakeClock {
  constructor(public now = 1_700_000_000_000) {}
  nowMs(): number {
    return this.now
  }
}

/** A batch of `count` records with values `${tag}-${i}` padded to `valueBytes`. */
export function batch(
  tag: string, options: { count?: number; valueBytes?: number; timestamp?: number } = {},
): Buffer {
  const count = options.count ?? 1
  const timestamp = options.timestamp ?? 1_000
  const records = Array.from({ length: count }, (_, i) => ({
    value: `${tag}-${i}`.padEnd(options.valueBytes ?? 0, '.'),
    timestamp,
  }))
  return encodeBatch(records, { now: timestamp })
}

/** Values of every record in whole batches laid end to end. */
export function valuesOf(bytes: Buffer): string[] {
  const values: string[] = []
  for (let at = 0; at < bytes.byteLength;) {
    const size = bytes.readInt32BE(at + 8) + 12
    for (const record of decodeBatch(bytes.subarray(at, at + size)).records) {
      values.push(record.value!.toString().replace(/\.+$/, ''))
    }
    at += size
  }
  return values
}

/** Values of every record of the log, from its start, reading segment by segment. */
export function readAll(log: PartitionLog): string[] {
  const values: string[] = []
  for (let offset = log.logStartOffset; offset < log.logEndOffset;) {
    const bytes = log.read(offset, 1024 * 1024)
    values.push(...valuesOf(bytes))
    let at = 0
    let last = offset
    while (at < bytes.byteLength) {
      last = Number(bytes.readBigInt64BE(at)) + bytes.readInt32BE(at + 23)
      at += bytes.readInt32BE(at + 8) + 12
    }
    offset = last + 1
  }
  return values
}

export function openLog(dir: string, options: {
  fs?: FileSystem; config?: Partial<PartitionLogConfig>; clock?: FakeClock;
  recovered?: RecoveryReport
} = {}): { log: PartitionLog; report: RecoveryReport } {
  return PartitionLog.open({
    fs: options.fs ?? new NodeFileSystem(),
    dir,
    config: { ...baseConfig, ...options.config },
    clock: options.clock ?? new FakeClock(),
    ...(options.recovered === undefined ? {} : { recovered: options.recovered }),
  })
}

export function fileBytes(filePath: string): Buffer {
  return readFileSync(filePath)
}
