/**
 * An in-memory FileSystem: what durability 'memory' runs on (the engine passes one in), and a fast
 * stand-in for tests. It keeps POSIX's shapes where the log relies on them:
 *
 * - a path names an inode; an open handle holds the inode, so a file unlinked or renamed while
 *   open stays readable through the handle (readers on other threads keep working);
 * - missing files and parents fail with errors carrying `code: 'ENOENT'` (also EBADF, EISDIR,
 *   ENOTDIR, ENOSPC) like node:fs, so callers' error handling is exercised unchanged;
 * - writes past the end zero-fill the gap; reads past the end return fewer bytes.
 *
 * File bytes live in chunks (FileBytes): a growing file is never copied whole and each byte is
 * touched once, which matters on VMs where fresh memory is slow (performance.md).
 *
 * Invariant: every file's bytes below `size` are initialised; `capacityBytes`, when given, bounds
 * the sum of all file sizes, and a write that would cross it fails with ENOSPC before any byte
 * lands.
 * Syncs cost nothing: memory has no power loss to survive (see FaultFileSystem for that).
 */
import * as path from 'node:path'
import type { FileHandle, FileStat, FileSystem } from './file-system.js'

const MIN_CHUNK_BYTES = 64
const CHUNK_BYTES = 1024 * 1024
/** Freed chunks kept for reuse: touching fresh memory costs ~1.1 ms per MiB on these VMs, reused
 *  memory ~0.03 ms, so a benchmark with retention runs warm once it reaches steady state. */
const MAX_POOLED_CHUNKS = 256

/** Full-size chunks of deleted files, handed to growing ones. */
class ChunkPool {
  private readonly free: Buffer[] = []

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES)
  }

  give(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      if (this.free.length >= MAX_POOLED_CHUNKS) return
      if (chunk.byteLength === CHUNK_BYTES) this.free.push(chunk)
    }
  }
}

/**
 * A file's contents: chunk 0 grows by doubling up to CHUNK_BYTES (small files stay small); past
 * that, fixed CHUNK_BYTES chunks are added, so byte p lives in chunk ⌊p / CHUNK_BYTES⌋.
 */
class FileBytes {
  private chunks: Buffer[] = []
  size = 0

  constructor(private readonly pool: ChunkPool) {}

  /** Copies `source` to `position`, zero-filling any gap after the current end. */
  write(source: Uint8Array, position: number): void {
    const end = position + source.byteLength
    if (end > this.capacity()) this.grow(end)
    if (position > this.size) this.spans(this.size, position - this.size, (c, at, _, n) => {
      c.fill(0, at, at + n)
    })
    this.spans(position, source.byteLength, (c, at, from, n) => {
      c.set(source.subarray(from, from + n), at)
    })
    this.size = Math.max(this.size, end)
  }

  read(target: Uint8Array, targetOffset: number, length: number, position: number): number {
    const available = Math.max(0, Math.min(length, this.size - position))
    this.spans(position, available, (c, at, from, n) => {
      target.set(c.subarray(at, at + n), targetOffset + from)
    })
    return available
  }

  resize(length: number): void {
    if (length > this.size) {
      this.write(new Uint8Array(0), length)
      return
    }
    this.size = length
    const kept = Math.min(this.chunks.length, Math.ceil(length / CHUNK_BYTES))
    this.pool.give(this.chunks.slice(Math.max(1, kept)))
    this.chunks.length = kept
  }

  /** Hands every chunk back to the pool; the file is empty afterwards. */
  free(): void {
    this.pool.give(this.chunks)
    this.chunks = []
    this.size = 0
  }

  copy(): Buffer {
    const out = Buffer.allocUnsafe(this.size)
    this.read(out, 0, this.size, 0)
    return out
  }

  private capacity(): number {
    if (this.chunks.length <= 1) return this.chunks[0]?.byteLength ?? 0
    return this.chunks.length * CHUNK_BYTES
  }

  private grow(end: number): void {
    const first = this.chunks[0]
    if (first === undefined || first.byteLength < CHUNK_BYTES) {
      const target = end > CHUNK_BYTES ? CHUNK_BYTES
        : Math.min(CHUNK_BYTES, Math.max(end, MIN_CHUNK_BYTES, (first?.byteLength ?? 0) * 2))
      const grown = target === CHUNK_BYTES ? this.pool.take() : Buffer.allocUnsafe(target)
      if (first !== undefined) first.copy(grown, 0, 0, Math.min(this.size, first.byteLength))
      this.chunks[0] = grown
    }
    while (this.capacity() < end) this.chunks.push(this.pool.take())
  }

  /** Calls `visit(chunk, offsetInChunk, offsetInSpan, length)` for each chunk [position, +length)
   *  touches. */
  private spans(position: number, length: number,
    visit: (chunk: Buffer, at: number, from: number, length: number) => void): void {
    for (let done = 0; done < length;) {
      const absolute = position + done
      const index = Math.floor(absolute / CHUNK_BYTES)
      const at = absolute - index * CHUNK_BYTES
      const n = Math.min(length - done, CHUNK_BYTES - at)
      visit(this.chunks[index]!, at, done, n)
      done += n
    }
  }
}

interface Inode {
  bytes: FileBytes
  mtimeMs: number
  /** False once no path names it; its bytes are freed when the last handle closes. */
  linked: boolean
}

interface OpenFile {
  inode: Inode
  path: string
  writable: boolean
}

export interface MemoryFileSystemOptions {
  /** Total bytes all files may hold; a write beyond fails with ENOSPC. Default: unbounded. */
  capacityBytes?: number
  /** mtime source, so tests with fake clocks stay deterministic. Default Date.now. */
  nowMs?: () => number
}

export class MemoryFileSystem implements FileSystem {
  private readonly files = new Map<string, Inode>()
  private readonly directories = new Set<string>(['/'])
  private readonly handles = new Map<FileHandle, OpenFile>()
  private nextHandle = 1
  private usedBytes = 0
  private readonly pool = new ChunkPool()
  private readonly capacityBytes: number
  private readonly nowMs: () => number

  constructor(options: MemoryFileSystemOptions = {}) {
    this.capacityBytes = options.capacityBytes ?? Number.POSITIVE_INFINITY
    this.nowMs = options.nowMs ?? Date.now
  }

  open(filePath: string, mode: 'read' | 'readwrite' | 'create'): FileHandle {
    const key = normalise(filePath)
    let inode = this.files.get(key)
    if (inode === undefined) {
      if (this.directories.has(key)) throw fsError('EISDIR', 'open', key)
      if (mode !== 'create') throw fsError('ENOENT', 'open', key)
      this.requireParent(key, 'open')
      inode = this.newInode()
      this.files.set(key, inode)
    }
    const handle = this.nextHandle++
    this.handles.set(handle, { inode, path: key, writable: mode !== 'read' })
    return handle
  }

  close(handle: FileHandle): void {
    const { inode } = this.file(handle, 'close')
    this.handles.delete(handle)
    if (!inode.linked && !this.isOpen(inode)) this.release(inode)
  }

  writev(handle: FileHandle, buffers: readonly Uint8Array[], position: number): number {
    const file = this.file(handle, 'write')
    if (!file.writable) throw fsError('EBADF', 'write', file.path)
    let total = 0
    for (const buffer of buffers) total += buffer.byteLength
    this.charge(file.inode, position + total, file.path)
    let at = position
    for (const buffer of buffers) {
      file.inode.bytes.write(buffer, at)
      at += buffer.byteLength
    }
    file.inode.mtimeMs = this.nowMs()
    return total
  }

  read(
    handle: FileHandle, target: Uint8Array, targetOffset: number, length: number, position: number,
  ): number {
    return this.file(handle, 'read').inode.bytes.read(target, targetOffset, length, position)
  }

  fdatasync(handle: FileHandle): void {
    this.file(handle, 'fdatasync')
  }

  truncate(handle: FileHandle, length: number): void {
    const file = this.file(handle, 'ftruncate')
    if (!file.writable) throw fsError('EBADF', 'ftruncate', file.path)
    this.charge(file.inode, length, file.path)
    this.usedBytes -= Math.max(0, file.inode.bytes.size - length)
    file.inode.bytes.resize(length)
  }

  size(handle: FileHandle): number {
    return this.file(handle, 'fstat').inode.bytes.size
  }

  stat(filePath: string): FileStat | null {
    const key = normalise(filePath)
    const inode = this.files.get(key)
    if (inode !== undefined) {
      return { size: inode.bytes.size, isDirectory: false, mtimeMs: inode.mtimeMs }
    }
    if (this.directories.has(key)) return { size: 0, isDirectory: true, mtimeMs: 0 }
    return null
  }

  readFile(filePath: string): Buffer | null {
    const inode = this.files.get(normalise(filePath))
    return inode === undefined ? null : inode.bytes.copy()
  }

  writeFileAtomic(filePath: string, data: Uint8Array): void {
    const key = normalise(filePath)
    this.requireParent(key, 'open')
    const previous = this.files.get(key)
    const inode = this.newInode()
    // Charge the new copy before dropping the old one, as a temp file + rename would.
    this.charge(inode, data.byteLength, key)
    inode.bytes.write(data, 0)
    if (previous !== undefined) this.unlinkInode(key, previous)
    this.files.set(key, inode)
  }

  rename(from: string, to: string): void {
    const source = normalise(from)
    const target = normalise(to)
    const inode = this.files.get(source)
    if (inode === undefined) throw fsError('ENOENT', 'rename', source)
    this.requireParent(target, 'rename')
    const replaced = this.files.get(target)
    if (replaced !== undefined) this.unlinkInode(target, replaced)
    this.files.delete(source)
    this.files.set(target, inode)
  }

  unlink(filePath: string): void {
    const key = normalise(filePath)
    const inode = this.files.get(key)
    if (inode !== undefined) this.unlinkInode(key, inode)
  }

  mkdirp(dirPath: string): void {
    let key = normalise(dirPath)
    while (!this.directories.has(key)) {
      if (this.files.has(key)) throw fsError('ENOTDIR', 'mkdir', key)
      this.directories.add(key)
      key = path.posix.dirname(key)
    }
  }

  removeTree(dirPath: string): void {
    const key = normalise(dirPath)
    const prefix = key === '/' ? '/' : `${key}/`
    for (const [filePath, inode] of this.files) {
      if (filePath === key || filePath.startsWith(prefix)) this.unlinkInode(filePath, inode)
    }
    for (const directory of this.directories) {
      if (directory !== '/' && (directory === key || directory.startsWith(prefix))) {
        this.directories.delete(directory)
      }
    }
  }

  readdir(dirPath: string): string[] {
    const key = normalise(dirPath)
    if (!this.directories.has(key)) return []
    const names: string[] = []
    for (const candidate of [...this.files.keys(), ...this.directories]) {
      if (candidate !== key && path.posix.dirname(candidate) === key) {
        names.push(path.posix.basename(candidate))
      }
    }
    return names.sort()
  }

  syncDirectory(dirPath: string): void {
    const key = normalise(dirPath)
    if (!this.directories.has(key)) throw fsError('ENOENT', 'open', key)
  }

  /** Bytes held by all files, including unlinked files still open. */
  get totalBytes(): number {
    return this.usedBytes
  }

  private newInode(): Inode {
    return { bytes: new FileBytes(this.pool), mtimeMs: this.nowMs(), linked: true }
  }

  private file(handle: FileHandle, syscall: string): OpenFile {
    const file = this.handles.get(handle)
    if (file === undefined) throw fsError('EBADF', syscall, `handle ${handle}`)
    return file
  }

  private requireParent(key: string, syscall: string): void {
    if (!this.directories.has(path.posix.dirname(key))) throw fsError('ENOENT', syscall, key)
  }

  /** Charges the capacity for growing a file to `end` bytes; ENOSPC before anything lands. */
  private charge(inode: Inode, end: number, filePath: string): void {
    const growth = end - inode.bytes.size
    if (growth <= 0) return
    if (this.usedBytes + growth > this.capacityBytes) throw fsError('ENOSPC', 'write', filePath)
    this.usedBytes += growth
  }

  private release(inode: Inode): void {
    this.usedBytes -= inode.bytes.size
    inode.bytes.free()
  }

  private unlinkInode(filePath: string, inode: Inode): void {
    this.files.delete(filePath)
    inode.linked = false
    if (!this.isOpen(inode)) this.release(inode)
  }

  private isOpen(inode: Inode): boolean {
    for (const file of this.handles.values()) if (file.inode === inode) return true
    return false
  }
}


function normalise(filePath: string): string {
  const resolved = path.posix.resolve('/', filePath.split(path.sep).join('/'))
  return resolved.length > 1 && resolved.endsWith('/') ? resolved.slice(0, -1) : resolved
}

/** An Error shaped like node:fs's, so `error.code` checks work against either implementation. */
export function fsError(code: string, syscall: string, filePath: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${filePath}'`),
    { code, syscall, path: filePath })
}
