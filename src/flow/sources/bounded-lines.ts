/**
 * Cuts a byte stream into `\n`-ended lines without ever holding more than maxLineLengthBytes of
 * an unfinished line (the exec source's stdout; reference §2.1 has no such bound in Flume, whose
 * BufferedReader.readLine grows without limit).
 *
 * Each chunk is scanned once, from where the previous scan stopped, so the cost is linear in the
 * bytes read (re-splitting `pending + chunk` on every chunk was quadratic in a long line).
 * A line longer than maxLineLengthBytes (the `\n` not counted) is dropped as soon as it crosses
 * the limit: onOverLong is called once for it, its bytes up to the next `\n` are discarded, and
 * the line after it is read normally.
 *
 * Invariant: bufferedBytes <= maxLineLengthBytes after every push.
 */
import { assert } from '../../errors.js'

const NEWLINE = 0x0a

export interface LineHandlers {
  onLine(line: Buffer): void
  onOverLong(): void
}

export class BoundedLineSplitter {
  /** Pieces of the unfinished line, in order; none holds a `\n`. */
  private parts: Buffer[] = []
  private partsBytes = 0
  /** The unfinished line already crossed the limit: the rest of it is discarded. */
  private discarding = false

  constructor(readonly maxLineLengthBytes: number, private readonly handlers: LineHandlers) {
    assert(Number.isInteger(maxLineLengthBytes) && maxLineLengthBytes >= 1,
      `maxLineLengthBytes must be a positive integer, got ${maxLineLengthBytes}`)
  }

  /** Bytes of the unfinished line held in memory. */
  get bufferedBytes(): number {
    return this.partsBytes
  }

  push(chunk: Buffer): void {
    let start = 0
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start)
      if (newline < 0) {
        this.keep(chunk.subarray(start))
        break
      }
      this.keep(chunk.subarray(start, newline))
      this.endLine()
      start = newline + 1
    }
    assert(this.partsBytes <= this.maxLineLengthBytes, 'an unfinished line exceeds its bound')
  }

  /** The stream ended: an unfinished line (one without its `\n`) still counts as a line. */
  end(): void {
    if (this.partsBytes > 0) this.endLine()
    this.discarding = false
  }

  private keep(piece: Buffer): void {
    if (this.discarding || piece.byteLength === 0) return
    if (this.partsBytes + piece.byteLength > this.maxLineLengthBytes) {
      this.parts = []
      this.partsBytes = 0
      this.discarding = true
      this.handlers.onOverLong()
      return
    }
    // A subarray keeps its chunk alive; only a line's first piece can be a chunk's tail, so at
    // most one chunk beyond partsBytes is retained.
    this.parts.push(piece)
    this.partsBytes += piece.byteLength
  }

  private endLine(): void {
    const { parts, partsBytes, discarding } = this
    this.parts = []
    this.partsBytes = 0
    this.discarding = false
    if (discarding) return
    // Copied, so an event in a batch never pins the socket chunk it came from.
    this.handlers.onLine(parts.length === 1 ? Buffer.from(parts[0]!)
      : Buffer.concat(parts, partsBytes))
  }
}
