/**
 * Reads one spooled file as Flume's LINE deserializer does (LineDeserializer over a
 * ResettableFileInputStream): one event per `\n`-ended line, the `\n` dropped, decoded from
 * inputCharset and re-encoded as UTF-8; a line longer than maxLineLength characters is cut into
 * pieces of that length (Flume truncates the line and reads on, so the rest becomes the next
 * event: no byte is lost); a last line without `\n` is an event too (the file is complete).
 *
 * Undecodable bytes follow decodeErrorPolicy: FAIL throws SLUICE_ERR_SOURCE_INPUT naming the
 * file and the line's offset, REPLACE puts U+FFFD, IGNORE drops them (a U+FFFD that was in the
 * file is dropped with them).
 *
 * Marks (where a restart resumes): {offset, skip} = the byte offset of a line's start and how
 * many of that line's pieces were already delivered. Only whole lines are ever skipped by
 * offset, so a mark is exact in any charset and any policy: resuming re-decodes the line from
 * its start and drops `skip` pieces. Memory per reader: one read buffer and one piece.
 */
import { TextDecoder } from 'node:util'
import { SluiceError } from '../../errors.js'
import type { FileHandle, FileSystem } from '../../io/file-system.js'

export type DecodeErrorPolicy = 'FAIL' | 'REPLACE' | 'IGNORE'

export interface SpoolMark {
  offset: number
  skip: number
}

export interface SpoolReaderOptions {
  /** A WHATWG encoding label (TextDecoder); checked by spoolCharset. */
  charset: string
  decodeErrorPolicy: DecodeErrorPolicy
  maxLineLength: number
}

const READ_BUFFER_BYTES = 64 * 1024
const NEWLINE = 0x0a

/**
 * The TextDecoder encoding for a charset name, or null with the reason it cannot be used.
 * Lines are found by the byte 0x0A, so only charsets where that byte is always `\n` qualify.
 */
export function spoolCharset(name: string): { encoding: string } | { refused: string } {
  let encoding: string
  try {
    encoding = new TextDecoder(name).encoding
  } catch {
    return { refused: `${JSON.stringify(name)} is not a charset this runtime can decode` }
  }
  if (encoding.startsWith('utf-16') || encoding === 'replacement') {
    return { refused: `${name} is not supported: lines are split at the byte 0x0A, which ` +
      'UTF-16 uses inside characters (use UTF-8, US-ASCII, ISO-8859-x, windows-125x, …)' }
  }
  return { encoding }
}

export class SpoolFileReader {
  private handle: FileHandle | null = null
  private readonly buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)
  private bufferStart = 0
  private bufferLength = 0
  private scanAt = 0
  private lineStart = 0
  private pieceIndex = 0
  private skipPieces = 0
  private text = ''
  private lineHasBytes = false
  private lineEnd: number | null = null
  private decoder: TextDecoder

  constructor(private readonly fs: FileSystem, readonly file: string,
    private readonly options: SpoolReaderOptions, start: SpoolMark) {
    this.decoder = this.newDecoder()
    this.handle = fs.open(file, 'read')
    this.rewind(start)
  }

  /** Goes back to a mark: the next read starts there. */
  rewind(mark: SpoolMark): void {
    this.bufferStart = mark.offset
    this.bufferLength = 0
    this.scanAt = 0
    this.lineStart = mark.offset
    this.pieceIndex = 0
    this.skipPieces = mark.skip
    this.text = ''
    this.lineHasBytes = false
    this.lineEnd = null
    this.decoder = this.newDecoder()
  }

  close(): void {
    if (this.handle !== null) this.fs.close(this.handle)
    this.handle = null
  }

  /** Up to `count` bodies, and the mark just after the last one (null when none was read). */
  read(count: number): { bodies: Buffer[]; mark: SpoolMark | null } {
    const bodies: Buffer[] = []
    let mark: SpoolMark | null = null
    while (bodies.length < count) {
      const piece = this.nextPiece()
      if (piece === null) break
      bodies.push(Buffer.from(piece.text, 'utf8'))
      mark = piece.mark
    }
    return { bodies, mark }
  }

  private nextPiece(): { text: string; mark: SpoolMark } | null {
    const max = this.options.maxLineLength
    for (;;) {
      const ended = this.lineEnd !== null
      if (this.text.length > max || (this.text.length === max && !ended)) {
        const cut = isHighSurrogate(this.text.charCodeAt(max - 1)) && max > 1 ? max - 1 : max
        const text = this.text.slice(0, cut)
        this.text = this.text.slice(cut)
        const piece = this.emit(text, false)
        if (piece !== null) return piece
        continue
      }
      if (ended) {
        const piece = this.emit(this.text, true)
        if (piece !== null) return piece
        continue
      }
      if (!this.scan()) return null
    }
  }

  /** A piece of the current line, or null when it is one of the pieces to skip. */
  private emit(text: string, endsLine: boolean): { text: string; mark: SpoolMark } | null {
    const index = this.pieceIndex++
    const skipped = index < this.skipPieces
    let mark: SpoolMark
    if (endsLine) {
      mark = { offset: this.lineEnd!, skip: 0 }
      this.lineStart = this.lineEnd!
      this.lineEnd = null
      this.lineHasBytes = false
      this.text = ''
      this.pieceIndex = 0
      this.skipPieces = 0
    } else {
      mark = { offset: this.lineStart, skip: this.pieceIndex }
    }
    return skipped ? null : { text, mark }
  }

  /** Decodes up to the next `\n` or the buffer's end; false at the end of the file. */
  private scan(): boolean {
    if (this.scanAt >= this.bufferLength && !this.fill()) {
      if (!this.lineHasBytes) return false
      this.text += this.decode(Buffer.alloc(0), false)
      this.lineEnd = this.bufferStart + this.bufferLength
      return true
    }
    const data = this.buffer.subarray(0, this.bufferLength)
    const newline = data.indexOf(NEWLINE, this.scanAt)
    const end = newline < 0 ? this.bufferLength : newline
    this.text += this.decode(data.subarray(this.scanAt, end), newline < 0)
    this.lineHasBytes = true
    if (newline >= 0) {
      this.lineEnd = this.bufferStart + newline + 1
      this.scanAt = newline + 1
    } else {
      this.scanAt = this.bufferLength
    }
    return true
  }

  private fill(): boolean {
    if (this.handle === null) return false
    this.bufferStart += this.bufferLength
    this.bufferLength = this.fs.read(this.handle, this.buffer, 0, this.buffer.byteLength,
      this.bufferStart)
    this.scanAt = 0
    return this.bufferLength > 0
  }

  private decode(bytes: Buffer, stream: boolean): string {
    let text: string
    try {
      text = this.decoder.decode(bytes, { stream })
    } catch (error) {
      throw new SluiceError('SLUICE_ERR_SOURCE_INPUT', `${this.file}: the line at byte ` +
        `${this.lineStart} is not valid ${this.options.charset} (decodeErrorPolicy = FAIL; ` +
        'REPLACE or IGNORE would read on)', { cause: error })
    }
    return this.options.decodeErrorPolicy === 'IGNORE' ? text.replaceAll('\uFFFD', '') : text
  }

  private newDecoder(): TextDecoder {
    // ignoreBOM keeps a byte-order mark as a character, as Java's decoders do.
    return new TextDecoder(this.options.charset,
      { fatal: this.options.decodeErrorPolicy === 'FAIL', ignoreBOM: true })
  }
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}
