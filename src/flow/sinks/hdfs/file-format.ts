/**
 * What the hdfs sink writes into a file, by `hdfs.fileType`:
 *
 *   DataStream        the TEXT serializer: each body, plus '\n' when serializer.appendNewline
 *   CompressedStream  the same text, through hdfs.codeC (gzip members or Hadoop LZ4 blocks), one
 *                     compressed unit per flushed batch
 *   SequenceFile      Hadoop SequenceFile v6, LongWritable timestamp keys, BytesWritable (or,
 *                     with writeFormat Text, Text) bodies
 *
 * A format writer collects a batch in memory (append), hands it over as bytes to write (takeBatch)
 * or forgets it (dropBatch, when the batch rolls back). Every batch it hands over ends the file on
 * a boundary its reader accepts, so the file's fsynced prefix is always readable; a crash can only
 * tear bytes after it. `repair` finds that readable prefix in a file a crash left behind.
 *
 * A format is named by an id (e.g. `CompressedStream/gzip/text+newline`) that the open-files
 * journal records with each file, so recovery reads a file with the format it was written in
 * even if the configuration changed meanwhile.
 */
import type { FlowEvent } from '../../event.js'
import { decodeGzipMembers, encodeGzipMember, GZIP_EXTENSION } from './gzip-members.js'
import { decodeLz4Blocks, encodeLz4Blocks, LZ4_EXTENSION } from './hadoop-lz4.js'
import {
  decodeSequenceFile, SequenceFileWriter, type SequenceWriteFormat,
} from './sequence-file.js'

export type FileType = 'SequenceFile' | 'DataStream' | 'CompressedStream'
export type CodecName = 'gzip' | 'lz4'

export interface FormatSpec {
  fileType: FileType
  /** CompressedStream only. */
  codec: CodecName | null
  appendNewline: boolean
  writeFormat: SequenceWriteFormat
}

export interface FormatWriter {
  /** Bytes a new file starts with. */
  header(): Buffer
  append(event: FlowEvent): void
  /** The batch's bytes; once written, the file ends on a boundary its reader accepts. */
  takeBatch(): Buffer[]
  dropBatch(): void
}

export interface Repair {
  /** Length of the longest readable prefix. */
  validBytes: number
  /** Whether that prefix holds at least one event. */
  hasEvents: boolean
  /** Why the rest is not readable, or null when it all is. */
  stoppedAt: string | null
}

const NEWLINE = Buffer.from('\n')

export function formatId(spec: FormatSpec): string {
  if (spec.fileType === 'SequenceFile') return `SequenceFile/${spec.writeFormat}`
  const text = spec.appendNewline ? 'text+newline' : 'text'
  return spec.fileType === 'DataStream' ? `DataStream/${text}`
    : `CompressedStream/${spec.codec}/${text}`
}

export function formatFromId(id: string): FormatSpec | null {
  const [fileType, second, third] = id.split('/')
  if (fileType === 'SequenceFile' && (second === 'Writable' || second === 'Text')) {
    return { fileType, codec: null, appendNewline: false, writeFormat: second }
  }
  const text = fileType === 'DataStream' ? second : third
  if (text !== 'text' && text !== 'text+newline') return null
  const appendNewline = text === 'text+newline'
  if (fileType === 'DataStream' && third === undefined) {
    return { fileType, codec: null, appendNewline, writeFormat: 'Writable' }
  }
  if (fileType === 'CompressedStream' && (second === 'gzip' || second === 'lz4')) {
    return { fileType, codec: second, appendNewline, writeFormat: 'Writable' }
  }
  return null
}

/** The codec's default extension, used when hdfs.fileSuffix is empty (Flume's naming). */
export function codecExtension(spec: FormatSpec): string {
  if (spec.fileType !== 'CompressedStream') return ''
  return spec.codec === 'gzip' ? GZIP_EXTENSION : LZ4_EXTENSION
}

class TextWriter implements FormatWriter {
  private pending: Buffer[] = []

  constructor(private readonly spec: FormatSpec) {}

  header(): Buffer {
    return Buffer.alloc(0)
  }

  append(event: FlowEvent): void {
    this.pending.push(event.body)
    if (this.spec.appendNewline) this.pending.push(NEWLINE)
  }

  takeBatch(): Buffer[] {
    const text = this.pending
    this.pending = []
    if (this.spec.fileType === 'DataStream') return text
    const data = Buffer.concat(text)
    if (data.length === 0) return []
    return this.spec.codec === 'gzip' ? encodeGzipMember(data) : encodeLz4Blocks(data)
  }

  dropBatch(): void {
    this.pending = []
  }
}

export function newFormatWriter(spec: FormatSpec, nowMs: () => number): FormatWriter {
  if (spec.fileType === 'SequenceFile') return new SequenceFileWriter(spec.writeFormat, nowMs)
  return new TextWriter(spec)
}

/** The readable prefix of a file's bytes, by its format. */
export function repairBytes(spec: FormatSpec, bytes: Buffer): Repair {
  if (spec.fileType === 'SequenceFile') {
    const decoded = decodeSequenceFile(bytes)
    if (typeof decoded === 'string') return { validBytes: 0, hasEvents: false, stoppedAt: decoded }
    return { validBytes: decoded.validBytes, hasEvents: decoded.records.length > 0,
      stoppedAt: decoded.stoppedAt }
  }
  if (spec.fileType === 'CompressedStream') {
    const decoded = spec.codec === 'gzip' ? decodeGzipMembers(bytes) : decodeLz4Blocks(bytes)
    return { validBytes: decoded.validBytes, hasEvents: decoded.validBytes > 0,
      stoppedAt: decoded.stoppedAt }
  }
  if (!spec.appendNewline) {
    // Without a newline there is no framing: every byte that landed is kept.
    return { validBytes: bytes.length, hasEvents: bytes.length > 0, stoppedAt: null }
  }
  const validBytes = bytes.lastIndexOf(0x0a) + 1
  return { validBytes, hasEvents: validBytes > 0,
    stoppedAt: validBytes === bytes.length ? null : 'the last line has no newline' }
}
