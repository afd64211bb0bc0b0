/**
 * The only door to the disk. Every file the engine touches goes through a FileSystem, so tests can
 * swap in doubles that fail with ENOSPC or EIO, or that lose writes which were never synced.
 *
 * Calls are synchronous on purpose: a partition's files are owned by one shard thread, where a
 * sync call costs ~2 µs and an async one ~31–41 µs (shared/reference/performance.md §B1).
 */

/** An open file, addressed by a small integer as in POSIX. */
export type FileHandle = number

export interface FileStat {
  size: number
  isDirectory: boolean
  mtimeMs: number
}

export interface FileSystem {
  /** Opens for reading and appending; creates the file when `create` is set. */
  open(path: string, mode: 'read' | 'readwrite' | 'create'): FileHandle
  close(handle: FileHandle): void
  /** Writes all buffers at `position` (one vectored write); returns bytes written. */
  writev(handle: FileHandle, buffers: readonly Uint8Array[], position: number): number
  /** Reads up to `length` bytes at `position` into `target` at `targetOffset`. */
  read(
    handle: FileHandle, target: Uint8Array, targetOffset: number, length: number, position: number,
  ): number
  fdatasync(handle: FileHandle): void
  truncate(handle: FileHandle, length: number): void
  size(handle: FileHandle): number

  stat(path: string): FileStat | null
  readFile(path: string): Buffer | null
  /** Writes a whole file durably: temp file, fsync, rename, fsync of the directory. */
  writeFileAtomic(path: string, data: Uint8Array): void
  rename(from: string, to: string): void
  unlink(path: string): void
  mkdirp(path: string): void
  /** Removes a directory and everything under it; absent is fine. */
  removeTree(path: string): void
  readdir(path: string): string[]
  syncDirectory(path: string): void
}
