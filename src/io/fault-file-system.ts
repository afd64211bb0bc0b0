/**
 * A FileSystem wrapper that misbehaves on request, for tests of the log and the engine: writes
 * and syncs that fail with ENOSPC or EIO, torn writes (part of the buffers land, then the call
 * throws), and power loss (`crash()` drops what was never synced).
 *
 * Power-loss model, per file, tracked through the calls made on this wrapper:
 * - `syncedSize` is the file's size at its last fdatasync (or when first seen: files that existed
 *   before the wrapper saw them count as synced). Bytes beyond it are unsynced.
 * - a file created through the wrapper is `durable` only once its directory is synced
 *   (syncDirectory, or writeFileAtomic of any file in it, which syncs the directory itself).
 * - `crash()` closes every handle opened through the wrapper, removes files whose name is not
 *   durable, and truncates the others to `syncedSize`; with a seed, it instead keeps a random
 *   prefix of each file's unsynced bytes and a random half of the non-durable names, the way a
 *   kernel may have written back some dirty pages and not others.
 * Simplifications (on purpose, they are not what the log's tests exercise): overwrites below
 * `syncedSize` are assumed durable at once, and renames and unlinks are never rolled back.
 */
import * as path from 'node:path'
import type { FileHandle, FileStat, FileSystem } from './file-system.js'
import { fsError } from './memory-file-system.js'
import { seededRandom } from '../seeded-random.js'

export type FaultCode = 'ENOSPC' | 'EIO'
/** Which files a fault applies to; all files when absent. */
export type PathFilter = (filePath: string) => boolean

interface TrackedFile {
  path: string
  syncedSize: number
  durable: boolean
}

interface WriteFault {
  kind: 'disk-full' | 'fail-next' | 'tear-next'
  code: FaultCode
  /** disk-full: bytes that may still land; tear-next: bytes that land before the throw. */
  budgetBytes: number
  filter: PathFilter
}

interface SyncFault {
  code: FaultCode
  filter: PathFilter
}

export interface CrashOutcome {
  truncated: { path: string; fromBytes: number; toBytes: number }[]
  removed: string[]
}

const everyFile: PathFilter = () => true

export class FaultFileSystem implements FileSystem {
  private readonly tracked = new Map<string, TrackedFile>()
  private readonly handles = new Map<FileHandle, TrackedFile>()
  private writeFault: WriteFault | null = null
  private syncFault: SyncFault | null = null
  /** writev calls per path, so tests can check how many writes an operation cost. */
  readonly writevCalls = new Map<string, number>()

  constructor(readonly inner: FileSystem) {}

  // ---- arming faults -------------------------------------------------------------------------

  /** Writes land until `bytes` more bytes have been written; the write that crosses lands the
   *  part that fits and throws, and every later write throws, until clearFaults(). */
  failWritesAfterBytes(bytes: number, code: FaultCode = 'ENOSPC', filter = everyFile): void {
    this.writeFault = { kind: 'disk-full', code, budgetBytes: bytes, filter }
  }

  /** The next matching write throws before any byte lands. */
  failNextWrite(code: FaultCode = 'EIO', filter = everyFile): void {
    this.writeFault = { kind: 'fail-next', code, budgetBytes: 0, filter }
  }

  /** The next matching writev lands only its first `keepBytes` bytes, then throws. */
  tearNextWrite(keepBytes: number, code: FaultCode = 'EIO', filter = everyFile): void {
    this.writeFault = { kind: 'tear-next', code, budgetBytes: keepBytes, filter }
  }

  /** The next matching fdatasync throws; the file's unsynced bytes stay unsynced. */
  failNextSync(code: FaultCode = 'EIO', filter = everyFile): void {
    this.syncFault = { code, filter }
  }

  clearFaults(): void {
    this.writeFault = null
    this.syncFault = null
  }

  /** Bytes of `filePath` written since its last fdatasync. */
  unsyncedBytes(filePath: string): number {
    const file = this.tracked.get(filePath)
    const size = this.inner.stat(filePath)?.size ?? 0
    return file === undefined ? 0 : Math.max(0, size - file.syncedSize)
  }

  /** Simulates power loss; see the module comment. Without a seed, keeps only synced state. */
  crash(options: { seed?: number } = {}): CrashOutcome {
    for (const handle of this.handles.keys()) this.inner.close(handle)
    this.handles.clear()
    const outcome: CrashOutcome = { truncated: [], removed: [] }
    const random = options.seed === undefined ? undefined : seededRandom(options.seed)
    for (const file of [...this.tracked.values()]) {
      const size = this.inner.stat(file.path)?.size
      if (size === undefined) {
        this.tracked.delete(file.path)
        continue
      }
      if (!file.durable && (random === undefined || random() < 0.5)) {
        this.inner.unlink(file.path)
        this.tracked.delete(file.path)
        outcome.removed.push(file.path)
        continue
      }
      const unsynced = Math.max(0, size - file.syncedSize)
      const kept = random === undefined ? 0 : Math.floor(random() * (unsynced + 1))
      const target = Math.min(size, file.syncedSize + kept)
      if (target < size) {
        const handle = this.inner.open(file.path, 'readwrite')
        this.inner.truncate(handle, target)
        this.inner.close(handle)
        outcome.truncated.push({ path: file.path, fromBytes: size, toBytes: target })
      }
      file.syncedSize = target
      file.durable = true
    }
    return outcome
  }

  // ---- FileSystem ----------------------------------------------------------------------------

  open(filePath: string, mode: 'read' | 'readwrite' | 'create'): FileHandle {
    const existed = this.inner.stat(filePath) !== null
    const handle = this.inner.open(filePath, mode)
    let file = this.tracked.get(filePath)
    if (file === undefined) {
      file = { path: filePath, syncedSize: existed ? this.inner.size(handle) : 0, durable: existed }
      this.tracked.set(filePath, file)
    }
    this.handles.set(handle, file)
    return handle
  }

  close(handle: FileHandle): void {
    this.inner.close(handle)
    this.handles.delete(handle)
  }

  writev(handle: FileHandle, buffers: readonly Uint8Array[], position: number): number {
    const file = this.handles.get(handle)
    const total = totalBytes(buffers)
    const fault = this.matchingWriteFault(file?.path)
    if (fault === null) return this.countedWritev(handle, file, buffers, position)
    const landing = Math.min(total, fault.budgetBytes)
    if (fault.kind !== 'disk-full') this.writeFault = null
    if (fault.kind === 'disk-full') {
      fault.budgetBytes -= landing
      if (landing === total) return this.countedWritev(handle, file, buffers, position)
    }
    if (fault.kind !== 'fail-next' && landing > 0) {
      this.countedWritev(handle, file, prefix(buffers, landing), position)
    }
    throw fsError(fault.code, 'write', file?.path ?? `handle ${handle}`)
  }

  read(
    handle: FileHandle, target: Uint8Array, targetOffset: number, length: number, position: number,
  ): number {
    return this.inner.read(handle, target, targetOffset, length, position)
  }

  fdatasync(handle: FileHandle): void {
    const file = this.handles.get(handle)
    const fault = this.syncFault
    if (fault !== null && fault.filter(file?.path ?? '')) {
      this.syncFault = null
      throw fsError(fault.code, 'fdatasync', file?.path ?? `handle ${handle}`)
    }
    this.inner.fdatasync(handle)
    if (file !== undefined) file.syncedSize = this.inner.size(handle)
  }

  truncate(handle: FileHandle, length: number): void {
    this.inner.truncate(handle, length)
    const file = this.handles.get(handle)
    if (file !== undefined) file.syncedSize = Math.min(file.syncedSize, length)
  }

  size(handle: FileHandle): number {
    return this.inner.size(handle)
  }

  stat(filePath: string): FileStat | null {
    return this.inner.stat(filePath)
  }

  readFile(filePath: string): Buffer | null {
    return this.inner.readFile(filePath)
  }

  writeFileAtomic(filePath: string, data: Uint8Array): void {
    const fault = this.matchingWriteFault(filePath)
    if (fault !== null) {
      // A whole-file write either fits in what is left or fails; the temp file hides any tear.
      if (fault.kind !== 'disk-full') this.writeFault = null
      if (fault.kind !== 'disk-full' || fault.budgetBytes < data.byteLength) {
        throw fsError(fault.code, 'write', filePath)
      }
      fault.budgetBytes -= data.byteLength
    }
    this.inner.writeFileAtomic(filePath, data)
    this.tracked.set(filePath, { path: filePath, syncedSize: data.byteLength, durable: true })
    // writeFileAtomic fsyncs the directory, which makes every name in it durable.
    this.markNamesDurable(path.dirname(filePath))
  }

  rename(from: string, to: string): void {
    this.inner.rename(from, to)
    const file = this.tracked.get(from)
    this.tracked.delete(from)
    if (file !== undefined) {
      file.path = to
      this.tracked.set(to, file)
    }
  }

  unlink(filePath: string): void {
    this.inner.unlink(filePath)
    this.tracked.delete(filePath)
  }

  mkdirp(dirPath: string): void {
    this.inner.mkdirp(dirPath)
  }

  removeTree(dirPath: string): void {
    this.inner.removeTree(dirPath)
    const prefix = `${dirPath}${path.sep}`
    for (const key of [...this.tracked.keys()]) {
      if (key === dirPath || key.startsWith(prefix)) this.tracked.delete(key)
    }
  }

  readdir(dirPath: string): string[] {
    return this.inner.readdir(dirPath)
  }

  syncDirectory(dirPath: string): void {
    this.inner.syncDirectory(dirPath)
    this.markNamesDurable(dirPath)
  }

  private markNamesDurable(dirPath: string): void {
    for (const file of this.tracked.values()) {
      if (path.dirname(file.path) === dirPath) file.durable = true
    }
  }

  private matchingWriteFault(filePath: string | undefined): WriteFault | null {
    const fault = this.writeFault
    return fault !== null && fault.filter(filePath ?? '') ? fault : null
  }

  private countedWritev(
    handle: FileHandle, file: TrackedFile | undefined, buffers: readonly Uint8Array[],
    position: number,
  ): number {
    if (file !== undefined) {
      this.writevCalls.set(file.path, (this.writevCalls.get(file.path) ?? 0) + 1)
    }
    return this.inner.writev(handle, buffers, position)
  }
}

function totalBytes(buffers: readonly Uint8Array[]): number {
  let total = 0
  for (const buffer of buffers) total += buffer.byteLength
  return total
}

/** The first `bytes` bytes of a buffer list, as views. */
function prefix(buffers: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let left = bytes
  for (const buffer of buffers) {
    if (left <= 0) break
    out.push(buffer.byteLength <= left ? buffer : buffer.subarray(0, left))
    left -= buffer.byteLength
  }
  return out
}

