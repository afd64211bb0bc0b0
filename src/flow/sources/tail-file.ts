/**
 * One file TAILDIR follows (Flume's TailFile): known by its inode, read through a handle that
 * stays open while the file is active, so a rename (app.log → app.log.1) changes only `path`
 * and reading goes on where it was. An open handle also pins the inode, so while a file is open
 * no other file can take its inode number: same inode + open handle = same file.
 *
 * Lines end at `\n` (a `\r` before it is dropped, as Flume does); the body is the raw bytes. A
 * last line without its `\n` is left unread unless the caller asks for it (the file will not be
 * written any more), so a line being written is never cut in two — up to maxLineLengthBytes: a
 * line longer than that (its `\r` not counted) is cut into pieces of that many bytes, each its
 * own line marked `cut`, the rest read on as the next piece (spooldir's LINE deserializer does
 * the same), so memory stays bounded by the limit whatever a file holds. Flume has no limit.
 *
 * Positions: `pos` is the offset just past the last line committed to the channel. readLines
 * always starts there, so lines read but refused by the channel are simply read again. The
 * unfinished last line a read ended on is kept (at most maxLineLengthBytes + 1 bytes) with the
 * offset it starts at; while that is still `pos`, the next read goes on from where the last one
 * stopped instead of reading the same bytes again. Only `pos` is ever written down.
 */
import type { FileHandle, FileSystem } from '../../io/file-system.js'

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d
/** TAILDIR's maxLineLength default (sluice's key): a line past 1 MiB is cut. */
export const DEFAULT_TAILDIR_MAX_LINE_LENGTH_BYTES = 1024 * 1024

export interface TailLine {
  body: Buffer
  /** Byte offset of the line's first byte (Flume's byteoffset header). */
  offset: number
  /** A piece of a line longer than maxLineLengthBytes, cut at the limit. */
  cut: boolean
}

/** The unfinished last line a read ended on: its bytes, from offset `start` in the file. */
interface HeldLine {
  start: number
  bytes: Buffer
}

export class TailFile {
  private handle: FileHandle | null = null
  private held: HeldLine | null = null
  /** Last time a line was committed or the file was opened (idleTimeout counts from it). */
  lastActivityMs: number

  constructor(private readonly fs: FileSystem, public path: string, readonly inode: number,
    public pos: number, nowMs: number, readonly maxLineLengthBytes: number) {
    this.lastActivityMs = nowMs
  }

  get isOpen(): boolean {
    return this.handle !== null
  }

  open(nowMs: number): void {
    if (this.handle === null) this.handle = this.fs.open(this.path, 'read')
    this.lastActivityMs = nowMs
  }

  close(): void {
    if (this.handle !== null) this.fs.close(this.handle)
    this.handle = null
    this.held = null
  }

  /**
   * The scan saw the file at `size` bytes: if that is shorter than what was read, the file was
   * truncated, and the unfinished line kept from before may no longer be in it.
   */
  noticeSize(size: number): void {
    if (this.held !== null && size < this.held.start + this.held.bytes.byteLength) this.held = null
  }

  /**
   * Up to maxLines complete lines (or cut pieces) from `pos`, and the offset just past the last
   * one. With takeUnfinished, a last line without `\n` counts too.
   */
  readLines(maxLines: number, scratch: Buffer, takeUnfinished: boolean)
    : { lines: TailLine[]; endPos: number } {
    const lines: TailLine[] = []
    const max = this.maxLineLengthBytes
    let lineStart = this.pos
    const pending = new PendingBytes()
    if (this.held !== null && this.held.start === this.pos) pending.add(this.held.bytes)
    this.held = null
    let readAt = lineStart + pending.byteLength
    let atEnd = false
    const push = (body: Buffer, cut: boolean, consumed: number): void => {
      lines.push({ body, offset: lineStart, cut })
      lineStart += consumed
    }
    /** Cuts max-byte pieces off the front of `line` until `fits` accepts the rest. */
    const cutWhileLonger = (line: Buffer, fits: (rest: Buffer) => boolean): Buffer => {
      while (!fits(line) && lines.length < maxLines) {
        push(line.subarray(0, max), true, max)
        line = line.subarray(max)
      }
      return line
    }
    while (this.handle !== null && lines.length < maxLines) {
      const got = this.fs.read(this.handle, scratch, 0, scratch.byteLength, readAt)
      if (got === 0) {
        atEnd = true
        break
      }
      readAt += got
      const data = scratch.subarray(0, got)
      let start = 0
      while (lines.length < maxLines) {
        const newline = data.indexOf(NEWLINE, start)
        if (newline < 0) {
          // Copied: the scratch buffer is overwritten by the next read.
          pending.add(Buffer.from(data.subarray(start)))
          // A last byte `\r` may end a line of exactly max bytes: that waits for the next byte.
          if (pending.byteLength > max) {
            pending.replace(cutWhileLonger(pending.take(), (rest) => rest.byteLength <= max ||
              (rest.byteLength === max + 1 && rest[max] === CARRIAGE_RETURN)))
          }
          break
        }
        pending.add(Buffer.from(data.subarray(start, newline)))
        start = newline + 1
        const rest = cutWhileLonger(pending.take(),
          (line) => stripCarriageReturn(line).byteLength <= max)
        if (lines.length === maxLines) break // the rest is read again from endPos next time
        push(stripCarriageReturn(rest), false, rest.byteLength + 1)
      }
    }
    if (takeUnfinished && pending.byteLength > 0 && lines.length < maxLines) {
      const rest = cutWhileLonger(pending.take(), (line) => line.byteLength <= max)
      if (lines.length < maxLines) push(rest, false, rest.byteLength)
    } else if (atEnd && pending.byteLength > 0) {
      this.held = { start: lineStart, bytes: pending.take() }
    }
    return { lines, endPos: lineStart }
  }
}

/** The bytes of an unfinished line, joined only when needed (each join is then ≥ max bytes). */
class PendingBytes {
  private parts: Buffer[] = []
  byteLength = 0

  add(part: Buffer): void {
    if (part.byteLength === 0) return
    this.parts.push(part)
    this.byteLength += part.byteLength
  }

  /** All the bytes as one buffer (a copy unless there is a single part); leaves none. */
  take(): Buffer {
    const joined = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts,
      this.byteLength)
    this.parts = []
    this.byteLength = 0
    return joined
  }

  replace(rest: Buffer): void {
    this.parts = []
    this.byteLength = 0
    this.add(rest)
  }
}

function stripCarriageReturn(line: Buffer): Buffer {
  const last = line.byteLength - 1
  return last >= 0 && line[last] === CARRIAGE_RETURN ? line.subarray(0, last) : line
}
