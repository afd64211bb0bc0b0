/**
 * One file TAILDIR follows (Flume's TailFile): known by its inode, read through a handle that
 * stays open while the file is active, so a rename (app.log → app.log.1) changes only `path`
 * and reading goes on where it was. An open handle also pins the inode, so while a file is open
 * no other file can take its inode number: same inode + open handle = same file.
 *
 * Lines end at `\n` (a `\r` before it is dropped, as Flume does); the body is the raw bytes. A
 * last line without its `\n` is left unread unless the caller asks for it (the file will not be
 * written any more), so a line being written is never cut in two.
 *
 * Positions: `pos` is the offset just past the last line committed to the channel. readLines
 * always starts there, so lines read but refused by the channel are simply read again.
 */
import type { FileHandle, FileSystem } from '../../io/file-system.js'

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

export interface TailLine {
  body: Buffer
  /** Byte offset of the line's first byte (Flume's byteoffset header). */
  offset: number
}

export class TailFile {
  private handle: FileHandle | null = null
  /** Last time a line was committed or the file was opened (idleTimeout counts from it). */
  lastActivityMs: number

  constructor(private readonly fs: FileSystem, public path: string, readonly inode: number,
    public pos: number, nowMs: number) {
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
  }

  /**
   * Up to maxLines complete lines from `pos`, and the offset just past the last one. With
   * takeUnfinished, a last line without `\n` counts too.
   */
  readLines(maxLines: number, scratch: Buffer, takeUnfinished: boolean)
    : { lines: TailLine[]; endPos: number } {
    const lines: TailLine[] = []
    let lineStart = this.pos
    let readAt = this.pos
    let carry: Buffer[] = []
    let carryBytes = 0
    while (this.handle !== null && lines.length < maxLines) {
      const got = this.fs.read(this.handle, scratch, 0, scratch.byteLength, readAt)
      if (got === 0) break
      readAt += got
      const data = scratch.subarray(0, got)
      let start = 0
      while (lines.length < maxLines) {
        const newline = data.indexOf(NEWLINE, start)
        if (newline < 0) {
          // Copied: the scratch buffer is overwritten by the next read.
          carry.push(Buffer.from(data.subarray(start)))
          carryBytes += got - start
          break
        }
        const body = joinLine(carry, carryBytes, data.subarray(start, newline))
        lines.push({ body: stripCarriageReturn(body), offset: lineStart })
        lineStart += carryBytes + (newline - start) + 1
        carry = []
        carryBytes = 0
        start = newline + 1
      }
    }
    if (takeUnfinished && carryBytes > 0 && lines.length < maxLines) {
      lines.push({ body: Buffer.concat(carry, carryBytes), offset: lineStart })
      lineStart += carryBytes
    }
    return { lines, endPos: lineStart }
  }
}

function joinLine(carry: Buffer[], carryBytes: number, tail: Buffer): Buffer {
  if (carry.length === 0) return Buffer.from(tail)
  return Buffer.concat([...carry, tail], carryBytes + tail.byteLength)
}

function stripCarriageReturn(line: Buffer): Buffer {
  const last = line.byteLength - 1
  return last >= 0 && line[last] === CARRIAGE_RETURN ? line.subarray(0, last) : line
}
