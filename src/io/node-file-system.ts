/**
 * The real FileSystem: thin synchronous wrappers over node:fs. Nothing here retries: a failed
 * write or fsync surfaces to the caller, which marks the partition failed (DESIGN rule 3).
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { FileHandle, FileStat, FileSystem } from './file-system.js'

const openFlags = { read: 'r', readwrite: 'r+', create: 'a+' } as const

export class NodeFileSystem implements FileSystem {
  open(filePath: string, mode: 'read' | 'readwrite' | 'create'): FileHandle {
    if (mode === 'create') {
      // 'a+' would force every write to the end; we write at explicit positions, so open r+
      // after making sure the file exists.
      fs.closeSync(fs.openSync(filePath, 'a'))
      return fs.openSync(filePath, 'r+')
    }
    return fs.openSync(filePath, openFlags[mode])
  }

  close(handle: FileHandle): void {
    fs.closeSync(handle)
  }

  writev(handle: FileHandle, buffers: readonly Uint8Array[], position: number): number {
    let expected = 0
    for (const buffer of buffers) expected += buffer.byteLength
    let written = fs.writevSync(handle, buffers as Uint8Array[], position)
    // A short write is legal POSIX behaviour; finish it rather than report success early.
    while (written < expected) {
      const rest = remainingAfter(buffers, written)
      const more = fs.writevSync(handle, rest, position + written)
      if (more === 0) throw Object.assign(new Error('writev wrote 0 bytes'), { code: 'EIO' })
      written += more
    }
    return written
  }

  read(
    handle: FileHandle, target: Uint8Array, targetOffset: number, length: number, position: number,
  ): number {
    return fs.readSync(handle, target, targetOffset, length, position)
  }

  fdatasync(handle: FileHandle): void {
    fs.fdatasyncSync(handle)
  }

  truncate(handle: FileHandle, length: number): void {
    fs.ftruncateSync(handle, length)
  }

  size(handle: FileHandle): number {
    return fs.fstatSync(handle).size
  }

  stat(filePath: string): FileStat | null {
    try {
      const stat = fs.statSync(filePath)
      return { size: stat.size, isDirectory: stat.isDirectory(), mtimeMs: stat.mtimeMs }
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  readFile(filePath: string): Buffer | null {
    try {
      return fs.readFileSync(filePath)
    } catch (error) {
      if (isNotFound(error)) return null
      throw error
    }
  }

  writeFileAtomic(filePath: string, data: Uint8Array): void {
    const temporary = `${filePath}.tmp`
    const handle = fs.openSync(temporary, 'w')
    try {
      fs.writeSync(handle, data)
      fs.fdatasyncSync(handle)
    } finally {
      fs.closeSync(handle)
    }
    fs.renameSync(temporary, filePath)
    this.syncDirectory(path.dirname(filePath))
  }

  rename(from: string, to: string): void {
    fs.renameSync(from, to)
  }

  unlink(filePath: string): void {
    try {
      fs.unlinkSync(filePath)
    } catch (error) {
      if (!isNotFound(error)) throw error
    }
  }

  mkdirp(dirPath: string): void {
    fs.mkdirSync(dirPath, { recursive: true })
  }

  removeTree(dirPath: string): void {
    fs.rmSync(dirPath, { recursive: true, force: true })
  }

  readdir(dirPath: string): string[] {
    try {
      return fs.readdirSync(dirPath)
    } catch (error) {
      if (isNotFound(error)) return []
      throw error
    }
  }

  syncDirectory(dirPath: string): void {
    const handle = fs.openSync(dirPath, 'r')
    try {
      fs.fsyncSync(handle)
    } finally {
      fs.closeSync(handle)
    }
  }
}

function remainingAfter(buffers: readonly Uint8Array[], skipBytes: number): Uint8Array[] {
  const rest: Uint8Array[] = []
  let skip = skipBytes
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength
      continue
    }
    rest.push(skip > 0 ? buffer.subarray(skip) : buffer)
    skip = 0
  }
  return rest
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT'
}
